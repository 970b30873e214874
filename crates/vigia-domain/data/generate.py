"""Writes crates/vigia-domain/data/{countries,languages}.tsv (code, Spanish, English)
from Debian's iso-codes package (LGPL-2.1+): ISO 3166-1 alpha-2 countries and ISO 639-1
languages with their names in both languages. Run from the workspace root on a machine
with iso-codes installed: python3 crates/vigia-domain/data/generate.py
"""
import json, gettext
def table(jsonfile, key, domain, code_field):
    data = json.load(open(f'/usr/share/iso-codes/json/{jsonfile}'))[key]
    es = gettext.translation(domain, '/usr/share/locale', languages=['es'])
    rows = []
    for r in data:
        code = r.get(code_field)
        if not code: continue
        en = r.get('common_name') or r['name']
        # Spanish: the translation of the name as iso-codes gives it
        es_name = es.gettext(r['name'])
        if r.get('common_name') and ', ' in es_name:
            # "Venezuela, República Bolivariana de": the short name people use.
            es_name = es_name.split(', ')[0]
        # "Español; Castellano": the first of the names given.
        es_name, en = es_name.split('; ')[0], en.split('; ')[0]
        rows.append((code.upper() if code_field=='alpha_2' and key=='3166-1' else code.lower(), en, es_name))
    return sorted(rows)
# Where iso-codes gives only the official form, or the same name to two countries,
# the name people use (checked against the RAE/Fundéu usage).
OVERRIDES_ES = {"KP": "Corea del Norte", "KR": "Corea del Sur", "LA": "Laos", "SY": "Siria", "RU": "Rusia",
                # Left untranslated by the catalogue.
                "DZ": "Argelia", "TR": "Turquía", "BN": "Brunéi"}
c = table('iso_3166-1.json','3166-1','iso_3166-1','alpha_2')
l = table('iso_639-2.json','639-2','iso_639-2','alpha_2')
c = [(code, en, OVERRIDES_ES.get(code, es)) for code, en, es in c]
for name, rows in [('countries.tsv', c), ('languages.tsv', l)]:
    with open(f'crates/vigia-domain/data/{name}','w') as f:
        for code,en,es in rows:
            assert '\t' not in en+es
            f.write(f'{code}\t{es}\t{en}\n')
    print(name, len(rows))
