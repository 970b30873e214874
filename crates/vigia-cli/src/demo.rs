//! The demo dataset: three organizations of the kinds that use Vigía, a user for each
//! role, the known Mexican detention facilities (DOMAIN.md §7; capacity only where it
//! was published) and notes built around the January 2020 episode, written in our
//! own words.
//!
//! What users see must be as honest as the product asks of its users (issue #21, item
//! 7): a date from the public record names its source (publisher, document, date), and
//! where sources disagree each one is recorded with what it says; a time that is not
//! established is marked approximate; a figure made up for the demo (organizations'
//! notes, generated attempts, visits) says it is illustrative, in Spanish and English.
//! User-visible texts never cite the design notes.

use vigia_domain::account::Locale;
use vigia_domain::facility::{FacilityDraft, FacilityKind};
use vigia_store::{Actor, DynStore};

pub const PASSWORD: &str = "vigia-demo-2020";

pub const ORGS: [(&str, &str); 3] = [
    ("defensoria-sur", "Defensoría Migrante del Sur, A.C."),
    ("casas-del-camino", "Red de Casas del Camino"),
    ("coalicion-nacional", "Coalición Nacional por los Derechos de las Personas Migrantes"),
];

/// (email, name, role, organization slug, locale)
pub const USERS: [(&str, &str, &str, &str, &str); 9] = [
    ("admin@defensoria.example", "Ana Admin", "admin", "defensoria-sur", "es"),
    ("coordinacion@defensoria.example", "Carmen Coordinadora", "coordinator", "defensoria-sur", "es"),
    ("monitoreo@defensoria.example", "Mario Monitor", "monitor", "defensoria-sur", "es"),
    ("abogada@defensoria.example", "Laura Abogada", "lawyer", "defensoria-sur", "es"),
    ("analisis@defensoria.example", "Andrés Analista", "analyst", "defensoria-sur", "en"),
    ("coordinacion@casas.example", "Hermana Rosa", "coordinator", "casas-del-camino", "es"),
    ("monitoreo@casas.example", "Pedro Voluntario", "monitor", "casas-del-camino", "es"),
    ("coordinacion@coalicion.example", "Beatriz Coalición", "coordinator", "coalicion-nacional", "es"),
    ("analisis@coalicion.example", "Sam Analyst", "analyst", "coalicion-nacional", "en"),
];

struct F {
    name: &'static str,
    kind: FacilityKind,
    state: &'static str,
    municipality: &'static str,
    lat: f64,
    lon: f64,
    capacity: Option<i64>,
    sources: &'static str,
}

const PUBLISHED: &str = "Capacidad tomada de información pública; la publicación de origen no se identifica en este registro. Registro parcial de estaciones. Coordenadas aproximadas del municipio.";
const PUBLISHED_APPROX: &str = "Capacidad aproximada tomada de información pública; la publicación de origen no se identifica en este registro. Registro parcial de estaciones. Coordenadas aproximadas del municipio.";
const UNKNOWN: &str = "Capacidad no publicada: se deja sin dato. Coordenadas aproximadas del municipio.";

/// Appended to what an organization's note or record says when the demo made it up.
const ILLUSTRATIVE: &str =
    "[Demo: ilustrativo, no proviene de una publicación / illustrative, not from a publication.]";

fn facilities() -> Vec<F> {
    use FacilityKind::*;
    let f = |name, kind, state, municipality, lat, lon, capacity, sources| F {
        name,
        kind,
        state,
        municipality,
        lat,
        lon,
        capacity,
        sources,
    };
    vec![
        f(
            "Estación Migratoria Siglo XXI",
            EstacionMigratoria,
            "07",
            "Tapachula",
            14.9036,
            -92.2575,
            Some(960),
            PUBLISHED,
        ),
        f(
            "Estación Migratoria Acayucan",
            EstacionMigratoria,
            "30",
            "Acayucan",
            17.9489,
            -94.9144,
            Some(836),
            PUBLISHED,
        ),
        f(
            "Estación Migratoria Palenque",
            EstacionMigratoria,
            "07",
            "Palenque",
            17.5094,
            -91.9823,
            Some(110),
            PUBLISHED_APPROX,
        ),
        f(
            "Estación Migratoria Reynosa",
            EstacionMigratoria,
            "28",
            "Reynosa",
            26.0508,
            -98.2978,
            Some(50),
            PUBLISHED_APPROX,
        ),
        f(
            "Estación Migratoria El Ceibo",
            EstacionMigratoria,
            "27",
            "Tenosique",
            17.2536,
            -90.9853,
            Some(42),
            PUBLISHED,
        ),
        f(
            "Estación Migratoria Los Cabos",
            EstacionMigratoria,
            "03",
            "Los Cabos",
            22.8905,
            -109.9167,
            Some(18),
            PUBLISHED,
        ),
        f(
            "Estación Migratoria Iztapalapa (Las Agujas)",
            EstacionMigratoria,
            "09",
            "Iztapalapa",
            19.3574,
            -99.0671,
            None,
            UNKNOWN,
        ),
        f("Estación Migratoria Tenosique", EstacionMigratoria, "27", "Tenosique", 17.4736, -91.4233, None, UNKNOWN),
        f("Estación Migratoria Villahermosa", EstacionMigratoria, "27", "Centro", 17.9892, -92.9475, None, UNKNOWN),
        f(
            "Estación Migratoria Tuxtla Gutiérrez (Cupape I)",
            EstacionMigratoria,
            "07",
            "Tuxtla Gutiérrez",
            16.7528,
            -93.1167,
            None,
            UNKNOWN,
        ),
        f(
            "Estación Migratoria Tuxtla Gutiérrez (Cupape II)",
            EstacionMigratoria,
            "07",
            "Tuxtla Gutiérrez",
            16.7530,
            -93.1150,
            None,
            UNKNOWN,
        ),
        f(
            "Estación Migratoria Comitán",
            EstacionMigratoria,
            "07",
            "Comitán de Domínguez",
            16.2516,
            -92.1339,
            None,
            UNKNOWN,
        ),
        f(
            "Estación Migratoria San Cristóbal de las Casas",
            EstacionMigratoria,
            "07",
            "San Cristóbal de las Casas",
            16.7370,
            -92.6376,
            None,
            UNKNOWN,
        ),
        f(
            "Estación Migratoria Chetumal",
            EstacionMigratoria,
            "23",
            "Othón P. Blanco",
            18.5001,
            -88.2961,
            None,
            UNKNOWN,
        ),
        f("Estación Migratoria Hermosillo", EstacionMigratoria, "26", "Hermosillo", 29.0729, -110.9559, None, UNKNOWN),
        f("Estación Migratoria Matamoros", EstacionMigratoria, "28", "Matamoros", 25.8690, -97.5027, None, UNKNOWN),
        f("Estación Migratoria Puebla", EstacionMigratoria, "21", "Puebla", 19.0414, -98.2063, None, UNKNOWN),
        f("Estación Migratoria Ciudad Juárez", EstacionMigratoria, "08", "Juárez", 31.6904, -106.4245, None, UNKNOWN),
        f("Estancia Provisional Mexicali", EstanciaProvisionalB, "02", "Mexicali", 32.6245, -115.4523, None, UNKNOWN),
    ]
}

/// (facility name, organization slug, note, what it rests on) — what an organization
/// keeps privately. The last part names the public source of the note's fact, if it has
/// one, and says what the demo made up; it is appended to the note.
const NOTES: [(&str, &str, &str, &str); 6] = [
    (
        "Estación Migratoria Siglo XXI",
        "defensoria-sur",
        "13/01/2020: el INM no renovó el permiso de un centro de derechos humanos para visitar esta estación. Contacto en la caseta: turno matutino, pedir hablar con la subdirección jurídica.",
        "[Fuente de la no renovación / source of the refusal to renew: reportes de prensa, enero de 2020. Demo: el contacto es ilustrativo / the contact is illustrative.]",
    ),
    (
        "Estación Migratoria Siglo XXI",
        "defensoria-sur",
        "Abril 2019: personas entrevistadas a la salida describen dormitorios con más del doble de su capacidad publicada (960).",
        "[Demo: las entrevistas son ilustrativas / the interviews are illustrative. Lo publicado / what was published: reportes de prensa de abril de 2019, más de 2,000 personas alojadas.]",
    ),
    (
        "Estación Migratoria Tuxtla Gutiérrez (Cupape I)",
        "defensoria-sur",
        "20/01/2020: no nos dejaron entrar; el oficial dijo que había 'órdenes de arriba'. Dos familias hondureñas con niños pequeños adentro según sus familiares.",
        "[Fuente / source: reportes de prensa sobre organizaciones rechazadas en Tuxtla Gutiérrez el 20 y 21 de enero de 2020. Demo: el día exacto, las palabras del oficial y las familias son ilustrativos / the exact day, the officer's words and the families are illustrative.]",
    ),
    (
        "Estación Migratoria Villahermosa",
        "casas-del-camino",
        "21/01/2020: la pastoral no pudo entrar a la misa semanal; sin explicación por escrito.",
        "[Fuente / source: reportes de prensa sobre organizaciones rechazadas en Villahermosa el 20 y 21 de enero de 2020. Demo: el día exacto y la misa son ilustrativos / the exact day and the mass are illustrative.]",
    ),
    (
        "Estación Migratoria Iztapalapa (Las Agujas)",
        "coalicion-nacional",
        "21/01/2020: tres organizaciones de la coalición fueron rechazadas en la puerta el mismo día.",
        "[Fuente / source: reportes de prensa sobre organizaciones rechazadas en la Ciudad de México el 20 y 21 de enero de 2020. Demo: el día exacto y el número de organizaciones son ilustrativos / the exact day and the number of organizations are illustrative.]",
    ),
    (
        "Estación Migratoria Comitán",
        "casas-del-camino",
        "28/01/2020: nos mostraron un oficio que suspende la entrada de organizaciones y asociaciones religiosas 'hasta nuevo aviso'.",
        "[El oficio INM/DGCVM/0118/2020 está fechado el 28-01-2020 (reportes de prensa, 28-01-2020). Demo: que se mostrara en esta caseta es ilustrativo / that it was shown at this gate is illustrative.]",
    ),
];

/// Loads the dataset into an empty store; returns false (and changes nothing) when the
/// store already holds organizations.
pub async fn seed(store: &DynStore) -> anyhow::Result<bool> {
    if !store.list_orgs().await?.is_empty() {
        return Ok(false);
    }
    let mut orgs = Vec::new();
    for (slug, name) in ORGS {
        orgs.push(store.create_org(&Actor::SYSTEM, slug, name).await?);
    }
    let mut users = Vec::new();
    for (email, name, role, org, locale) in USERS {
        let org_id =
            orgs.iter().find(|o| o.slug == org).map(|o| o.id).ok_or_else(|| anyhow::anyhow!("demo org {org}"))?;
        let locale = Locale::parse(locale).unwrap_or_default();
        users.push(crate::add_user(store, email, name, role, org_id, locale, PASSWORD).await?);
    }
    let coordinator =
        users.iter().find(|u| u.email == "coordinacion@coalicion.example").map(Actor::user).unwrap_or_default();
    let drafts: Vec<FacilityDraft> = facilities()
        .into_iter()
        .map(|f| FacilityDraft {
            name: f.name.into(),
            kind: f.kind,
            authority: "INM".into(),
            state_code: f.state.into(),
            municipality: Some(f.municipality.into()),
            latitude: Some(f.lat),
            longitude: Some(f.lon),
            capacity: f.capacity,
            opened_on: None,
            closed_on: None,
            sources: Some(f.sources.into()),
        })
        .collect();
    store.import_facilities(&coordinator, drafts).await?;

    // Corrections over time: each one a new version in the history.
    let list = store.list_facilities().await?;
    let monitor = users.iter().find(|u| u.email == "monitoreo@defensoria.example").map(Actor::user).unwrap_or_default();
    for f in &list {
        let mut d = f.draft.clone();
        let note = match f.draft.name.as_str() {
            "Estación Migratoria Siglo XXI" => "Más de 2,000 personas alojadas, por encima de la capacidad publicada (reportes de prensa, abril de 2019).",
            "Estación Migratoria Ciudad Juárez" => "Incendio del 27 de marzo de 2023: 40 personas murieron (reportes de prensa, marzo de 2023).",
            "Estancia Provisional Mexicali" => "Estancia provisional tipo B; cerrada en 2025 (fecha exacta por confirmar, por eso no se registra fecha de cierre).",
            _ => continue,
        };
        d.sources = Some(format!("{}\n{}", d.sources.unwrap_or_default(), note));
        store.update_facility(&monitor, f.id, Some(f.version), d).await?;
    }
    for (facility, org, text, basis) in NOTES {
        let f = list
            .iter()
            .find(|f| f.draft.name == facility)
            .ok_or_else(|| anyhow::anyhow!("demo facility {facility}"))?;
        let org = orgs.iter().find(|o| o.slug == org).ok_or_else(|| anyhow::anyhow!("demo org {org}"))?;
        let author = users.iter().find(|u| u.org_id == org.id).map(Actor::user).unwrap_or_default();
        store.add_facility_note(&author, org.id, f.id, &format!("{text} {basis}")).await?;
    }
    seed_access(store).await?;
    seed_cases(store).await?;
    seed_statements(store).await?;
    seed_visits(store).await?;
    seed_statistics(store).await?;
    seed_recommendations(store).await?;
    seed_requests(store).await?;
    seed_consents(store).await?;
    seed_retention(store).await?;
    seed_publication(store).await?;
    Ok(true)
}

/// The nationalities of the demo's tables, with a monthly level of returned and
/// presented events in 2019 (illustrative, in the order of magnitude the bulletin's
/// yearly totals give: some 180,000 events of people presented in 2019).
const DEMO_NATIONALITIES: [(&str, &str, i64, i64); 8] = [
    ("América Central", "", 0, 0),
    ("  Guatemala", "GTM", 2_300, 4_100),
    ("  Honduras", "HND", 2_100, 4_300),
    ("  El Salvador", "SLV", 600, 1_300),
    ("  Nicaragua", "NIC", 120, 700),
    ("Islas del Caribe", "", 0, 0),
    ("  Cuba", "CUB", 90, 900),
    ("  Haití", "HTI", 60, 600),
];

/// A demo bulletin table as the bulletin's CSV: header block, months, rows of regions
/// and countries, footer. Honduras' returns rise from January 2020 — while access was
/// closed — and stay up; `revised` changes Honduras in March 2020 as a later file would.
fn demo_bulletin(returned: bool, year: i16, months: u8, revised: bool) -> Vec<u8> {
    let (code, what) = if returned {
        ("3.2.1", "devueltos por la autoridad migratoria mexicana")
    } else {
        ("3.1.1", "presentados ante la autoridad migratoria")
    };
    let value = |iso: &str, level: i64, m: u8| -> i64 {
        // A fixed wobble per country and month, no randomness: the demo is the same each time.
        let seed = iso.bytes().map(i64::from).sum::<i64>() * 31 + i64::from(m) * 17 + i64::from(year) * 7;
        let wobble = (seed % 11 - 5) * level / 100;
        let mut v = level + wobble;
        if iso == "HND" && year == 2020 && returned {
            v = match m {
                1 => 4_870,
                2 => 4_120,
                3 if revised => 3_736,
                3 => 3_704,
                _ => 3_300 + wobble,
            };
        }
        v
    };
    let mut rows: Vec<(String, Vec<i64>)> = Vec::new();
    let mut region: Option<usize> = None;
    for (label, iso, ret, pres) in DEMO_NATIONALITIES {
        if iso.is_empty() {
            rows.push((label.to_string(), vec![0; usize::from(months)]));
            region = Some(rows.len() - 1);
            continue;
        }
        let level = if returned { ret } else { pres };
        let values: Vec<i64> = (1..=months).map(|m| value(iso, level, m)).collect();
        if let Some(r) = region {
            for (i, v) in values.iter().enumerate() {
                rows[r].1[i] += v;
            }
        }
        rows.push((label.to_string(), values));
    }
    let total: Vec<i64> = (0..usize::from(months))
        .map(|i| rows.iter().filter(|(l, _)| !l.starts_with(' ')).map(|(_, v)| v[i]).sum())
        .collect();
    let total_word = if year >= 2021 { "Subtotal" } else { "Total" };
    let month_names = vigia_domain::statistics::bulletin::MONTH_HEADERS;
    let mut out = String::new();
    out.push_str("Unidad de Política Migratoria (DEMO: valores ilustrativos / illustrative values)\n");
    out.push_str(&format!(
        "Cuadro {code} Eventos de extranjeros {what}, según continente y país de nacionalidad, {year}\n\n"
    ));
    out.push_str(&format!("Continente y país de nacionalidad,{},{total_word}\n", month_names.join(",")));
    let line = |label: &str, values: &[i64]| {
        let mut cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        cells.resize(12, String::new());
        format!("\"{label}\",{},{}\n", cells.join(","), values.iter().sum::<i64>())
    };
    out.push_str(&line("Total", &total));
    for (label, values) in &rows {
        out.push_str(&line(label, values));
    }
    out.push_str("\n\"Nota: Las cifras se refieren a eventos. Valores de demostración, no oficiales.\"\n");
    out.into_bytes()
}

/// The demo's official statistics: returns and presentations by nationality, the 2019
/// tables and three files of 2020 (January's, which brings the alert of the rise;
/// May's and June's, with a correction between them), all
/// marked as invented demo values wherever they show.
pub async fn seed_statistics(store: &DynStore) -> anyhow::Result<usize> {
    let Some((analyst, _)) = store.user_by_email("analisis@defensoria.example").await? else { return Ok(0) };
    let mut n = 0;
    for returned in [true, false] {
        for (year, months, revised, retrieved) in [
            (2019, 12, false, "2020-02-10"),
            (2020, 1, false, "2020-03-06"),
            (2020, 5, false, "2020-07-06"),
            (2020, 6, true, "2020-08-07"),
        ] {
            let provenance = vigia_domain::statistics::Provenance {
                publisher: "Vigía (demostración) / Vigía (demo)".into(),
                source_url: None,
                retrieved_on: retrieved.parse()?,
                published_on: None,
                illustrative: true,
            };
            let name = format!("demo-{}-{year}-{months:02}.csv", if returned { "3.2.1" } else { "3.1.1" });
            let bytes = demo_bulletin(returned, year, months, revised);
            match vigia_app::statistics::import(store, &Actor::user(&analyst), analyst.org_id, &name, bytes, provenance)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Ok(v) => n += v.len(),
                Err(problems) => anyhow::bail!("demo statistics refused: {:?}", problems),
            }
        }
    }
    Ok(n)
}

/// A recommendation the demo carries in our own words: never the official wording.
fn demo_recommendation(
    para: &str,
    text: &str,
    themes: &[&str],
    affected: &[&str],
) -> vigia_domain::recommendation::RecommendationDraft {
    vigia_domain::recommendation::RecommendationDraft {
        annotation_id: format!("demo-cmw-mex-co-3-{para}"),
        body: "Committee on Migrant Workers".into(),
        symbol: "CMW/C/MEX/CO/3".into(),
        paragraph: para.into(),
        published_on: Some(jiff::civil::date(2017, 9, 27)),
        text: text.into(),
        language: "es".into(),
        summary: true,
        kind: "Concluding Observations".into(),
        themes: themes.iter().map(|t| t.to_string()).collect(),
        affected_persons: affected.iter().map(|t| t.to_string()).collect(),
        sdgs: Vec::new(),
        countries: vec!["Mexico".into()],
        upr_states: Vec::new(),
        upr_position: None,
        upr_session: None,
    }
}

/// The Committee on Migrant Workers' 2017 concluding observations on Mexico
/// (CMW/C/MEX/CO/3), paragraphs 37 and 38(a), summarized in our own words with their
/// symbol and paragraph (the official wording is not quoted: it could not be verified
/// here); the Defensoría links its visit findings and child-detention cases to 38(a)
/// and records that it is not implemented.
pub async fn seed_recommendations(store: &DynStore) -> anyhow::Result<()> {
    let Some((lawyer, _)) = store.user_by_email("abogada@defensoria.example").await? else { return Ok(()) };
    let drafts = vec![
        demo_recommendation(
            "37",
            "[Resumen propio, no es el texto oficial] El Comité expresó preocupación por la detención de personas migrantes en estaciones migratorias y por el fuerte aumento de la detención de niñas, niños y adolescentes entre 2011 y 2016 (un aumento de alrededor del 900 %, según el Comité).",
            &["Deprivation of liberty", "Migrants", "Children's rights"],
            &["Migrants", "Children"],
        ),
        demo_recommendation(
            "38(a)",
            "[Resumen propio, no es el texto oficial] El Comité recomendó poner fin a la detención de niñas, niños y adolescentes y de sus familias por su situación migratoria, y usar alternativas a la detención.",
            &["Children's rights", "Deprivation of liberty", "Migrants"],
            &["Children", "Migrants"],
        ),
    ];
    let actor = Actor::user(&lawyer);
    store.import_recommendations(&actor, lawyer.org_id, drafts).await?;
    let recs = store.recommendations().await?;
    let Some(para38) = recs.iter().find(|r| r.draft.annotation_id == "demo-cmw-mex-co-3-38(a)") else { return Ok(()) };
    let mut evidence = Vec::new();
    let suggested = vigia_app::recommendations::suggestions(store, lawyer.org_id, true, para38)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for s in suggested.into_iter().filter(|s| s.shows == "children_detained") {
        let link = vigia_domain::recommendation::LinkDraft { kind: s.kind, reference: s.reference, note: None };
        let l = vigia_app::recommendations::link(store, &actor, lawyer.org_id, para38.id, link)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        evidence.push(l.id);
    }
    let assessment = vigia_domain::recommendation::AssessmentDraft {
        status: vigia_domain::recommendation::Status::NotImplemented,
        assessed_on: jiff::civil::date(2020, 3, 31),
        reasoning: "[Demo] Las visitas y los casos de la organización siguen encontrando niñas y niños detenidos en estaciones migratorias en 2020.".into(),
        evidence,
    };
    store.assess(&actor, lawyer.org_id, para38.id, assessment).await?;
    Ok(())
}

/// The Defensoría's access-to-information requests about the January 2020 suspension
/// (folios and answers invented, marked "[Demo]"): to the INM for the letter that
/// suspended access and the order that lifted it, answered "inexistent" and appealed;
/// to COMAR for the asylum claims made from detention that month, extended and
/// answered in part; and one to the INM filed 25 days before today, still awaiting its
/// answer, so the "today" list has something to show.
pub async fn seed_requests(store: &DynStore) -> anyhow::Result<()> {
    use vigia_domain::transparency::{AnswerType, Channel, EventDraft, EventKind, LinkDraft, LinkKind, RequestDraft};
    let Some((lawyer, _)) = store.user_by_email("abogada@defensoria.example").await? else { return Ok(()) };
    let actor = Actor::user(&lawyer);
    let d = |y, m, day| jiff::civil::date(y, m, day);
    let request = |authority: &str, folio: &str, filed_on, question: &str| RequestDraft {
        authority: authority.into(),
        folio: folio.into(),
        filed_on,
        question: question.into(),
        channel: Channel::Pnt,
        filed_by: Some("Área jurídica".into()),
        regime: None,
    };
    let event = |kind, on, answer_type, note: &str| EventDraft {
        kind,
        on,
        answer_type,
        outcome: None,
        note: (!note.is_empty()).then(|| note.to_string()),
    };
    let recent = vigia_app::today().checked_sub(jiff::Span::new().days(25))?;
    let made = store
        .create_requests(
            &actor,
            lawyer.org_id,
            vec![
                (
                    request(
                        "inm",
                        "DEMO-0411100010520",
                        d(2020, 1, 29),
                        "[Demo] Copia del oficio por el que se suspendió el ingreso de organizaciones de la sociedad civil y asociaciones religiosas a las estaciones migratorias en enero de 2020, y del documento que dejó sin efecto esa suspensión.",
                    ),
                    vec![
                        event(EventKind::Answer, d(2020, 2, 26), Some(AnswerType::Inexistent), "[Demo] El INM declaró inexistente el documento que dejó sin efecto la suspensión."),
                        event(EventKind::AppealFiled, d(2020, 3, 6), None, "[Demo] Recurso RRA-DEMO/2020"),
                        event(EventKind::AppealAdmitted, d(2020, 3, 10), None, ""),
                    ],
                ),
                (
                    request(
                        "comar",
                        "DEMO-0063300004520",
                        d(2020, 2, 3),
                        "[Demo] Número de solicitudes de la condición de refugiado presentadas en enero de 2020 por personas alojadas en estaciones migratorias, por estación.",
                    ),
                    vec![
                        event(EventKind::Extension, d(2020, 2, 28), None, ""),
                        event(EventKind::Answer, d(2020, 3, 12), Some(AnswerType::Partial), "[Demo] Total nacional, sin desglose por estación."),
                    ],
                ),
                (
                    request(
                        "inm",
                        "DEMO-RECIENTE",
                        recent,
                        "[Demo] Número de personas alojadas en cada estación migratoria el último día de cada mes de este año.",
                    ),
                    vec![],
                ),
            ],
        )
        .await?;
    let letter = store.statements().await?.into_iter().find(|s| s.draft.text.starts_with("Oficio INM/DGCVM/0118/2020"));
    if let (Some(first), Some(letter)) = (made.first(), letter) {
        for link in [
            LinkDraft { kind: LinkKind::Statement, reference: letter.id.to_string() },
            LinkDraft { kind: LinkKind::Suspension, reference: "2020-01-20/2020-01-31".into() },
        ] {
            store.link_request(&actor, lawyer.org_id, first.id, link).await?;
        }
    }
    Ok(())
}

/// One of the Defensoría's cases with its person's consents: legal representation given
/// in writing, sharing with Casas del Camino given (and the case shared with it, so its
/// coordinator finds it at /shared-cases), anonymized publication withdrawn; the other
/// cases' people agreed to the anonymized publication.
pub async fn seed_consents(store: &DynStore) -> anyhow::Result<()> {
    use vigia_domain::consent::{ConsentDraft, Decision, How, Purpose};
    let Some((lawyer, _)) = store.user_by_email("abogada@defensoria.example").await? else { return Ok(()) };
    let Some(partner) = store.org_by_slug("casas-del-camino").await? else { return Ok(()) };
    let actor = Actor::user(&lawyer);
    let cases = store.list_cases(lawyer.org_id, &vigia_domain::case::CaseFilter::default()).await?;
    let Some(case) = cases.iter().min_by_key(|c| c.id) else { return Ok(()) };
    let record = |purpose, partner_org_id, decision, on| ConsentDraft {
        purpose,
        partner_org_id,
        decision,
        on,
        how: How::Written,
        evidence_document_id: None,
    };
    for draft in [
        record(Purpose::LegalRepresentation, None, Decision::Given, jiff::civil::date(2020, 1, 22)),
        record(Purpose::SharePartner, Some(partner.id), Decision::Given, jiff::civil::date(2020, 1, 22)),
        record(Purpose::AnonymizedPublication, None, Decision::Given, jiff::civil::date(2020, 1, 22)),
        record(Purpose::AnonymizedPublication, None, Decision::Withdrawn, jiff::civil::date(2020, 3, 2)),
    ] {
        store.record_consent(&actor, lawyer.org_id, case.id, draft).await?;
    }
    store.share_case(&actor, lawyer.org_id, case.id, partner.id).await?;
    // Everyone else the Defensoría follows agreed, in writing, to the anonymized
    // publication of their story: the public figures count only such people.
    for other in cases.iter().filter(|c| c.id != case.id) {
        let draft = record(Purpose::AnonymizedPublication, None, Decision::Given, jiff::civil::date(2020, 1, 22));
        store.record_consent(&actor, lawyer.org_id, other.id, draft).await?;
    }
    Ok(())
}

/// The Defensoría keeps personal data 24 months after a case closes (held while an
/// appeal or amparo is recorded); the person of its most recent closed case without
/// one asked for their data to be cancelled, and the coordinator erased it: the case
/// page shows "personal data erased on … by …", the coded facts stay in the figures.
pub async fn seed_retention(store: &DynStore) -> anyhow::Result<()> {
    use vigia_domain::input::RawInput;
    let Some((coordinator, _)) = store.user_by_email("coordinacion@defensoria.example").await? else { return Ok(()) };
    let actor = Actor::user(&coordinator);
    let org = coordinator.org_id;
    let rule = RawInput::from_pairs([("months_after_close", "24")]);
    vigia_app::retention::set_rule(store, &actor, org, &rule).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let facts = store.retention_facts(org, None).await?;
    if let Some(f) = facts.iter().rev().find(|f| f.closed_at.is_some() && !f.litigating) {
        let asked = RawInput::from_pairs([("reason", "person_request")]);
        vigia_app::retention::erase(store, &actor, org, f.case_id, &asked, vigia_app::today())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

/// The Defensoría's 2020 figures, proposed by its coordinator and approved by its admin
/// (four eyes), so the public site and `vigia publish --org defensoria-sur --year 2020`
/// have something to show from the start.
pub async fn seed_publication(store: &DynStore) -> anyhow::Result<()> {
    let coordinator = store.user_by_email("coordinacion@defensoria.example").await?.map(|(u, _)| u);
    let admin = store.user_by_email("admin@defensoria.example").await?.map(|(u, _)| u);
    let (Some(coordinator), Some(admin)) = (coordinator, admin) else { return Ok(()) };
    let draft = vigia_domain::publication::PublicationDraft {
        year: 2020,
        sections: vigia_domain::publication::Section::ALL.to_vec(),
        detail: vigia_domain::publication::Detail::Facility,
    };
    let mirror = vigia_app::analysis::Mirror::default();
    let found = vigia_app::findings::FoundCache::default();
    let p =
        vigia_app::publications::propose(store, &mirror, &found, &Actor::user(&coordinator), coordinator.org_id, draft)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.decide_publication(&Actor::user(&admin), admin.org_id, p.id, true).await?;
    Ok(())
}

pub fn print_accounts() {
    println!(
        "Demo data: organizations, people, attempts, visits and cases are illustrative; \
         dates and figures from the public record name their source."
    );
    println!("Demo accounts (password for all: {PASSWORD}):");
    for (email, _, role, org, _) in USERS {
        println!("  {email:<34} {role:<12} {org}");
    }
}

/// A small deterministic generator (xorshift64), so the demo — and the generated
/// benchmark data — are the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Who routinely goes where, for what, and how often (visits per 28 days).
const ROUTINES: [(&str, &str, &str, u64); 13] = [
    ("defensoria-sur", "Estación Migratoria Siglo XXI", "legal_assistance", 8),
    ("defensoria-sur", "Estación Migratoria Tuxtla Gutiérrez (Cupape I)", "legal_assistance", 4),
    ("defensoria-sur", "Estación Migratoria Comitán", "legal_assistance", 2),
    ("defensoria-sur", "Estación Migratoria San Cristóbal de las Casas", "legal_assistance", 2),
    ("defensoria-sur", "Estación Migratoria Palenque", "monitoring", 1),
    ("casas-del-camino", "Estación Migratoria Villahermosa", "religious", 4),
    ("casas-del-camino", "Estación Migratoria Tenosique", "humanitarian", 3),
    ("casas-del-camino", "Estación Migratoria El Ceibo", "humanitarian", 2),
    ("casas-del-camino", "Estación Migratoria Acayucan", "religious", 2),
    ("coalicion-nacional", "Estación Migratoria Iztapalapa (Las Agujas)", "monitoring", 3),
    ("coalicion-nacional", "Estación Migratoria Acayucan", "monitoring", 1),
    ("coalicion-nacional", "Estación Migratoria Siglo XXI", "monitoring", 1),
    ("coalicion-nacional", "Estación Migratoria Puebla", "monitoring", 1),
];

/// What happened on a given day, by the demo's story: ordinary access in 2019, the
/// January 2020 closing (one organization after another turned away in Chiapas,
/// Tabasco, Veracruz and Mexico City, then an official letter suspending all visits),
/// visits resumed with restrictions in February, and health measures from late March.
fn outcome_for(
    day: jiff::civil::Date,
    facility: &str,
    rng: &mut Rng,
) -> (&'static str, Option<&'static str>, Option<&'static str>, &'static str) {
    use jiff::civil::date;
    let r = rng.below(100);
    if day == date(2020, 1, 13) && facility.contains("Siglo XXI") {
        return ("denied", Some("no_authorization_on_file"), Some("El permiso de visita no fue renovado."), "");
    }
    if day >= date(2020, 1, 14) && day <= date(2020, 1, 27) {
        return match r {
            0..=74 => (
                "denied",
                Some("orders_from_above"),
                Some("Nos dijeron que hay órdenes de arriba de no dejar pasar a organizaciones."),
                "",
            ),
            75..=89 => ("no_response", Some("none_given"), Some("Esperamos dos horas en la caseta sin respuesta."), ""),
            _ => ("partially_granted", Some("orders_from_above"), None, "no_phones,no_private_interview"),
        };
    }
    if day >= date(2020, 1, 28) && day <= date(2020, 1, 31) {
        return (
            "cancelled_by_authority",
            Some("orders_from_above"),
            Some("Nos mostraron un oficio que suspende la entrada de organizaciones civiles y religiosas hasta nuevo aviso."),
            "",
        );
    }
    if day >= date(2020, 2, 1) && day <= date(2020, 2, 29) {
        return match r {
            0..=59 => (
                "partially_granted",
                None,
                Some("Visita reprogramada; solo una hora y sin entrevistas privadas."),
                "time_limit,no_private_interview",
            ),
            60..=79 => ("granted", None, None, "no_phones"),
            _ => ("delayed", Some("no_authorization_on_file"), None, ""),
        };
    }
    if day >= date(2020, 3, 23) && day <= date(2020, 6, 30) {
        return match r {
            0..=64 => {
                ("denied", Some("health_measures"), Some("Visitas suspendidas por la contingencia sanitaria."), "")
            }
            _ => ("partially_granted", Some("health_measures"), None, "time_limit,areas_closed"),
        };
    }
    match r {
        0..=80 => ("granted", None, None, if r.is_multiple_of(3) { "no_phones" } else { "" }),
        81..=88 => ("partially_granted", Some("capacity"), None, "areas_closed"),
        89..=93 => ("delayed", Some("none_given"), None, ""),
        _ => ("denied", Some("no_authorization_on_file"), Some("La autorización no aparecía en el sistema."), ""),
    }
}

/// The note on every attempt the demo generates: dates, outcomes and counts are drawn
/// to tell the story, so every refusal rate computed from them is illustrative too.
const GENERATED_ATTEMPT: &str = "[Demo: intento generado; fecha, resultado y cifras ilustrativos, no provienen de una publicación / generated attempt; date, outcome and figures are illustrative, not from a publication.]";
/// The note on the demo's attempts at the stations the press named for 20–21 January 2020.
const REPORTED_DENIAL: &str = "[Fuente / source: reportes de prensa sobre organizaciones rechazadas en esta ciudad el 20 y 21 de enero de 2020. Demo: el día exacto, la hora y los detalles de este registro son ilustrativos / the exact day, time and details of this record are illustrative.]";

/// Access attempts for 2019–2020 for the demo organizations, and the coalition that
/// shares them.
pub async fn seed_access(store: &DynStore) -> anyhow::Result<usize> {
    use jiff::civil::date;
    use vigia_domain::access::validate;
    use vigia_domain::input::RawInput;
    let orgs = store.list_orgs().await?;
    let coalition =
        store.create_coalition(&Actor::SYSTEM, "red-monitoreo", "Red de Monitoreo de Estaciones Migratorias").await?;
    for o in &orgs {
        store.add_coalition_member(&Actor::SYSTEM, coalition.id, o.id).await?;
    }
    let facilities = store.list_facilities().await?;
    let users = store.list_users(None).await?;
    let now = vigia_store::now_micros();
    let mut rng = Rng(0x5eed_2020_0128);
    let mut total = 0;
    for org in &orgs {
        let actor = users
            .iter()
            .find(|u| u.org_id == org.id && u.role.as_str() == "monitor")
            .map(Actor::user)
            .unwrap_or_default();
        let mut drafts = Vec::new();
        for (slug, facility, purpose, per_month) in ROUTINES.iter().filter(|r| r.0 == org.slug) {
            let Some(f) = facilities.iter().find(|f| f.draft.name == *facility) else { continue };
            let mut day = date(2019, 1, 2);
            let _ = slug;
            while day <= date(2020, 12, 18) {
                let step = (28 / per_month).max(1) as i64;
                let jitter = rng.below(step.max(2) as u64) as i64;
                day = day.checked_add(jiff::Span::new().days(step + jitter - step / 2)).unwrap_or(date(2021, 1, 1));
                let day_ok = !matches!(day.weekday(), jiff::civil::Weekday::Sunday);
                if !day_ok || day > date(2020, 12, 18) {
                    continue;
                }
                let (outcome, reason, text, restrictions) = outcome_for(day, facility, &mut rng);
                let hour = 9 + rng.below(4);
                let minute = rng.below(4) * 15;
                let private = rng.below(100) < 4;
                let mut pairs = vec![
                    ("facility_id".to_string(), f.id.to_string()),
                    ("attempted_at".to_string(), format!("{day}T{hour:02}:{minute:02}")),
                    (
                        "requested_at".to_string(),
                        format!("{}T10:00", day.checked_sub(jiff::Span::new().days(3)).unwrap_or(day)),
                    ),
                    ("purpose".to_string(), purpose.to_string()),
                    ("team_size".to_string(), (1 + rng.below(3)).to_string()),
                    ("people_to_see".to_string(), rng.below(12).to_string()),
                    ("outcome".to_string(), outcome.to_string()),
                    ("restrictions".to_string(), restrictions.to_string()),
                    ("visibility".to_string(), if private { "private" } else { "coalition" }.to_string()),
                ];
                if let Some(r) = reason {
                    pairs.push(("reason_category".into(), r.into()));
                }
                if let Some(t) = text {
                    pairs.push(("reason_text".into(), t.into()));
                }
                if outcome != "granted" && rng.below(2) == 0 {
                    pairs.push(("official".into(), "Oficial de guardia en la caseta".into()));
                }
                pairs.push(("notes".into(), GENERATED_ATTEMPT.into()));
                let d = validate(&RawInput::from_pairs(pairs), f.time_zone(), now)
                    .map_err(|e| anyhow::anyhow!("demo attempt at {facility} on {day}: {e}"))?;
                drafts.push(d);
            }
        }
        // The story's named denials of 20–21 January 2020, in case the routine missed a day
        // (the press names the cities and the two days, not which day at which station),
        // and one more the demo adds in Veracruz.
        for (facility, day, notes) in [
            ("Estación Migratoria Tuxtla Gutiérrez (Cupape I)", "2020-01-20", REPORTED_DENIAL),
            ("Estación Migratoria Comitán", "2020-01-20", REPORTED_DENIAL),
            ("Estación Migratoria San Cristóbal de las Casas", "2020-01-21", REPORTED_DENIAL),
            ("Estación Migratoria Villahermosa", "2020-01-21", REPORTED_DENIAL),
            ("Estación Migratoria Iztapalapa (Las Agujas)", "2020-01-21", REPORTED_DENIAL),
            ("Estación Migratoria Acayucan", "2020-01-22", ILLUSTRATIVE),
        ] {
            let mine = ROUTINES.iter().any(|r| r.0 == org.slug && r.1 == facility);
            let Some(f) = facilities.iter().find(|f| f.draft.name == facility) else { continue };
            if !mine {
                continue;
            }
            let pairs = vec![
                ("facility_id", f.id.to_string()),
                ("attempted_at", format!("{day}T08:45")),
                ("purpose", "legal_assistance".to_string()),
                ("team_size", "2".to_string()),
                ("outcome", "denied".to_string()),
                ("reason_category", "orders_from_above".to_string()),
                ("reason_text", "No hay paso para organizaciones; órdenes de la delegación.".to_string()),
                ("restrictions", String::new()),
                ("notes", notes.to_string()),
            ];
            let d = validate(&RawInput::from_pairs(pairs), f.time_zone(), now)
                .map_err(|e| anyhow::anyhow!("demo attempt at {facility} on {day}: {e}"))?;
            drafts.push(d);
        }
        total += store.import_attempts(&actor, org.id, drafts).await?.row_count as usize;
    }
    Ok(total)
}

const GIVEN: [&str; 16] = [
    "José Armando",
    "María Fernanda",
    "Kevin Alexander",
    "Yeni Maribel",
    "Wilmer Josué",
    "Dania Lisseth",
    "Brayan Eduardo",
    "Sandra Noemí",
    "Carlos Enrique",
    "Keila Yamileth",
    "Jean Robert",
    "Marie-Claude",
    "Luis Ángel",
    "Ingrid Paola",
    "Óscar René",
    "Heidy Carolina",
];
const FAMILY: [&str; 12] = [
    "Hernández Pérez",
    "López Ramírez",
    "Martínez Cruz",
    "Gómez Orellana",
    "Castillo Flores",
    "Reyes Mejía",
    "Joseph Pierre",
    "Ventura Alvarado",
    "Pineda Castro",
    "Morales Chávez",
    "Aguilar Deras",
    "Baptiste Louis",
];
/// (nationality, main language) of the people organizations followed in the period.
const ORIGINS: [(&str, &str); 6] = [("HN", "es"), ("GT", "es"), ("SV", "es"), ("HT", "ht"), ("CU", "es"), ("VE", "es")];

/// An event of a demo case: kind, date, extra fields.
type DemoEvent = (&'static str, jiff::civil::Date, Vec<(&'static str, String)>);

/// `n` working days before `day` on the INM calendar.
pub(crate) fn working_days_before(
    cals: &vigia_domain::clock::Calendars,
    day: jiff::civil::Date,
    n: u32,
) -> jiff::civil::Date {
    let Ok(inm) = cals.get("inm") else { return day };
    let mut d = day;
    let mut left = n;
    while left > 0 {
        d = d.yesterday().unwrap_or(d);
        if inm.is_working_day(d) {
            left -= 1;
        }
    }
    d
}

/// Legal-aid cases: closed cases from 2019–2020 (detentions past the limit, children
/// detained, incidents) for the reports, and open cases dated from today so the
/// lawyer's "today" list has overdue and upcoming deadlines. Names are invented.
pub async fn seed_cases(store: &DynStore) -> anyhow::Result<usize> {
    use jiff::civil::date;
    use vigia_domain::case::{validate_case, validate_event};
    use vigia_domain::input::RawInput;
    let orgs = store.list_orgs().await?;
    let users = store.list_users(None).await?;
    let facilities = store.list_facilities().await?;
    let cals = vigia_store::calendars(&**store).await?;
    let tz = jiff::tz::TimeZone::get(vigia_domain::geo::LEGAL_TIME_ZONE)?;
    let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
    let fid = |name: &str| facilities.iter().find(|f| f.draft.name.contains(name)).map(|f| f.id.to_string());
    let mut rng = Rng(0xca5e_2019_0611);
    let mut total = 0;
    for (slug, prefix, places) in [
        ("defensoria-sur", "DMS", ["Siglo XXI", "Tuxtla", "Comitán", "Siglo XXI"]),
        ("casas-del-camino", "RCC", ["Villahermosa", "Tenosique", "Acayucan", "Villahermosa"]),
    ] {
        let Some(org) = orgs.iter().find(|o| o.slug == slug) else { continue };
        let staff: Vec<_> = users.iter().filter(|u| u.org_id == org.id).collect();
        let lawyer = staff
            .iter()
            .find(|u| u.role.as_str() == "lawyer")
            .or_else(|| staff.iter().find(|u| u.role.as_str() == "coordinator"));
        let Some(lawyer) = lawyer else { continue };
        let actor = Actor::user(lawyer);
        let add = |reference: String, minor: bool, facility: Option<String>, open: bool, rng: &mut Rng| {
            let (nat, lang) = ORIGINS[rng.below(ORIGINS.len() as u64) as usize];
            let given = GIVEN[rng.below(GIVEN.len() as u64) as usize];
            let family = FAMILY[rng.below(FAMILY.len() as u64) as usize];
            let mut pairs = vec![
                ("reference".to_string(), reference),
                ("full_name".to_string(), format!("{given} {family}")),
                ("nationality".to_string(), nat.to_string()),
                ("languages".to_string(), lang.to_string()),
                ("sex".to_string(), if rng.below(2) == 0 { "female" } else { "male" }.to_string()),
                ("age_group".to_string(), if minor { "adolescent_12_17" } else { "adult_18_59" }.to_string()),
                ("lawyer_user_id".to_string(), lawyer.id.to_string()),
                ("status".to_string(), if open { "open" } else { "closed" }.to_string()),
                ("identity_documents".to_string(), format!("Documento nacional {}-{:04}", nat, rng.below(10_000))),
            ];
            if minor {
                pairs
                    .push(("vulnerabilities".into(), if rng.below(2) == 0 { "unaccompanied" } else { "other" }.into()));
                pairs.push(("family_links".into(), "Viaja con su madre; padre en Estados Unidos.".into()));
            }
            if let Some(f) = facility {
                pairs.push(("facility_id".into(), f));
            }
            validate_case(&RawInput::from_pairs(pairs), today)
        };
        let event = |kind: &str, on: jiff::civil::Date, extra: &[(&str, String)]| {
            let mut pairs = vec![("kind".to_string(), kind.to_string()), ("on".to_string(), on.to_string())];
            pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
            validate_event(&RawInput::from_pairs(pairs), today)
        };

        // Closed cases, 2019–2020: how long people were held, and what happened to them.
        for i in 0..60u64 {
            let facility = fid(places[(i % 4) as usize]);
            let minor = rng.below(100) < 12;
            let d = add(format!("{prefix}-{}-{:03}", 2019 + i / 30, i + 1), minor, facility.clone(), false, &mut rng)
                .map_err(|e| anyhow::anyhow!("demo case {i}: {e}"))?;
            let c = store.create_case(&actor, org.id, d).await?;
            let detained = date(2019, 1, 7)
                .checked_add(jiff::Span::new().days((i * 12 + rng.below(10)) as i64))
                .unwrap_or(date(2019, 1, 7));
            let entered = detained.checked_sub(jiff::Span::new().days(3 + rng.below(20) as i64)).unwrap_or(detained);
            let held = 5 + rng.below(40) as u32;
            let out = cals.get("inm").ok().and_then(|c| c.add_working_days(detained, held).ok()).unwrap_or(detained);
            let mut evs = vec![
                event("entered_mexico", entered, &[]),
                event("detained", detained, &[("facility_id", facility.clone().unwrap_or_default())]),
            ];
            if rng.below(100) < 45 {
                evs.push(event(
                    "asylum_requested",
                    detained.checked_add(jiff::Span::new().days(2)).unwrap_or(detained),
                    &[],
                ));
            }
            for (kind, pct) in
                [("pressure_to_abandon", 18), ("denied_lawyer", 10), ("ill_treatment", 8), ("denied_consul", 5)]
            {
                if rng.below(100) < pct {
                    let on = detained.checked_add(jiff::Span::new().days(1 + rng.below(5) as i64)).unwrap_or(detained);
                    evs.push(event(
                        kind,
                        on,
                        &[("note", "Relato recogido en la entrevista; detalle en el expediente.".to_string())],
                    ));
                }
            }
            evs.push(event(if rng.below(100) < 40 { "deported" } else { "released" }, out, &[]));
            for e in evs {
                let e = e.map_err(|e| anyhow::anyhow!("demo event: {e}"))?;
                store.add_case_event(&actor, org.id, c.id, e).await?;
            }
            total += 1;
        }

        // Open cases as of today.
        if slug != "defensoria-sur" {
            continue;
        }
        let wd = |n: u32| working_days_before(&cals, today, n);
        let siglo = fid("Siglo XXI").unwrap_or_default();
        let open: Vec<(bool, Vec<DemoEvent>)> = vec![
            // Held 20 working days: past the 15-day limit.
            (
                false,
                vec![
                    ("entered_mexico", wd(30), vec![]),
                    ("detained", wd(20), vec![("facility_id", siglo.clone()), ("time", "21:40".into())]),
                ],
            ),
            // Held 12 working days, asked for asylum: the limit is four working days away.
            (
                false,
                vec![
                    ("detained", wd(12), vec![("facility_id", siglo.clone())]),
                    (
                        "asylum_requested",
                        wd(10),
                        vec![("note", "Teme volver: amenazas de una pandilla en su colonia.".into())],
                    ),
                ],
            ),
            // An adolescent detained with his mother two days ago.
            (true, vec![("detained", wd(2), vec![("facility_id", siglo.clone()), ("time", "06:15".into())])]),
            // Released, waiting for COMAR: asked 42 working days ago, admitted three days later.
            (
                false,
                vec![
                    ("asylum_requested", wd(42), vec![]),
                    ("comar_admission", wd(39), vec![]),
                    ("interview", wd(20), vec![]),
                ],
            ),
            // Refused: the appeal window closes in four working days.
            (
                false,
                vec![
                    ("asylum_requested", wd(70), vec![]),
                    ("comar_admission", wd(68), vec![]),
                    ("decision", wd(12), vec![("decision", "denied".into())]),
                ],
            ),
            // Held 25 working days under ground II: the 60-day limit applies.
            (
                false,
                vec![
                    ("detained", wd(25), vec![("facility_id", siglo.clone())]),
                    ("detention_extended", wd(14), vec![("ground", "ii".into())]),
                    (
                        "pressure_to_abandon",
                        wd(5),
                        vec![("note", "Un agente le dijo que firmara su retorno o seguiría detenido meses.".into())],
                    ),
                ],
            ),
        ];
        for (i, (minor, evs)) in open.into_iter().enumerate() {
            let d = add(format!("{prefix}-{}-A{:02}", today.year(), i + 1), minor, Some(siglo.clone()), true, &mut rng)
                .map_err(|e| anyhow::anyhow!("demo open case {i}: {e}"))?;
            let c = store.create_case(&actor, org.id, d).await?;
            for (kind, on, extra) in evs {
                let e = event(kind, on, &extra).map_err(|e| anyhow::anyhow!("demo event {kind}: {e}"))?;
                store.add_case_event(&actor, org.id, c.id, e).await?;
            }
            total += 1;
        }
    }
    Ok(total)
}

/// A demo claim: topic, position, from, until.
type DemoClaim = (&'static str, &'static str, &'static str, Option<&'static str>);
/// A demo statement: authority, speaker, when, channel, text, language, translation, claims.
type DemoStatement = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [DemoClaim],
);

/// The January 2020 statements, in our own words (DOMAIN.md §1): an assurance that
/// access was normal while organizations were being turned away (illustrative), the
/// suspension letter of 28 January, the ministry disowning it the same evening, and the
/// promise to resume with rescheduled visits.
///
/// Statements have no field for a free-text reference (`source_url` takes a link only),
/// so each text ends with a bracketed paragraph that names its sources (publisher,
/// document, date), says which times are approximate, and records what another source
/// says when they disagree (Amnesty International dates the INM's decision to Monday
/// 27 January). The claims follow the letter: access suspended from 28 January.
pub async fn seed_statements(store: &DynStore) -> anyhow::Result<usize> {
    use vigia_domain::input::RawInput;
    use vigia_domain::statement::{validate_claim, validate_statement};
    let Some(org) = store.org_by_slug("coalicion-nacional").await? else { return Ok(0) };
    let users = store.list_users(Some(org.id)).await?;
    let actor = users.iter().find(|u| u.role.as_str() == "analyst").map(Actor::user).unwrap_or_default();
    let now = vigia_store::now_micros();
    let statements: [DemoStatement; 4] = [
        (
            "inm", "Vocería del Instituto", "2020-01-21T13:00", "interview",
            "Interrogado sobre las organizaciones que no pudieron entrar a varias estaciones, el vocero aseguró que no existe ninguna restricción para las organizaciones acreditadas y que las visitas siguen su curso normal.\n\n\
             [Demo: declaración ilustrativa; no reproduce una declaración publicada. Muestra cómo Vigía confronta lo dicho con los rechazos registrados en las estaciones.]",
            "es", Some("Asked about organizations that could not enter several stations, the spokesperson said there is no restriction for accredited organizations and that visits go on as usual.\n\n\
             [Demo: an illustrative statement; it does not reproduce a published one. It shows how Vigía checks what was said against the refusals recorded at the stations.]"),
            &[("ngo_access", "permitted", "2020-01-14", Some("2020-01-27"))],
        ),
        (
            "inm", "Dirección General de Control y Verificación Migratoria", "2020-01-28T19:30", "official_letter",
            "Oficio INM/DGCVM/0118/2020, fechado el 28 de enero de 2020: suspende de manera temporal, hasta nuevo aviso, el ingreso de asociaciones religiosas y organizaciones de la sociedad civil a las estaciones migratorias y estancias provisionales. Esa misma noche el INM confirmó a la prensa que el oficio es auténtico.\n\n\
             [Fecha y hora: el 28-01-2020 es la fecha del oficio según la prensa que lo cita; las 19:30 (hora de la Ciudad de México) son la hora aproximada en que, según la prensa, el INM confirmó su autenticidad. Otra versión: el comunicado en inglés de Amnistía Internacional (29-01-2020) dice que el INM tomó la decisión \"on Monday\" (el lunes 27-01-2020). \
             Antecedente: el 24-01-2020 Amnistía Internacional pidió por carta abierta al comisionado del INM garantizar el acceso de las organizaciones conforme a las recomendaciones de la ONU. \
             Fuentes: INM, oficio INM/DGCVM/0118/2020, 28-01-2020, citado en reportes de prensa del 28-01-2020; Amnistía Internacional, comunicado, 29-01-2020; Amnistía Internacional, carta abierta AMR 41/1714/2020, 24-01-2020.]",
            "es", Some("Letter INM/DGCVM/0118/2020, dated 28 January 2020: temporarily suspends, until further notice, the entry of religious associations and civil-society organizations to migration stations and provisional facilities. That same evening the INM confirmed to the press that the letter is authentic.\n\n\
             [Date and time: 28-01-2020 is the letter's date as quoted by the press; 19:30 (Mexico City time) is the approximate time at which, according to the press, the INM confirmed it. Another account: Amnesty International's English release (29-01-2020) says the INM decided \"on Monday\", that is 27-01-2020. \
             Background: on 24-01-2020 Amnesty International asked the INM commissioner in an open letter to guarantee organizations' access in line with UN recommendations. \
             Sources: INM, letter INM/DGCVM/0118/2020, 28-01-2020, quoted in press reports of 28-01-2020; Amnesty International, statement, 29-01-2020; Amnesty International, open letter AMR 41/1714/2020, 24-01-2020.]"),
            &[("ngo_access", "suspended", "2020-01-28", None)],
        ),
        (
            "segob", "Secretaría de Gobernación", "2020-01-28T22:00", "press_release",
            "La Secretaría de Gobernación dijo que no reconoce el oficio del INM que suspende las visitas de las organizaciones: según la Secretaría, se emitió ese mismo día sin autorización de las autoridades superiores.\n\n\
             [Hora aproximada: la hora exacta no está establecida. Los reportes de prensa sitúan el desconocimiento la misma noche del 28-01-2020 (hora de la Ciudad de México; ya 29-01-2020 en UTC), a menos de tres horas de la noticia del oficio; las 22:00 son una aproximación. \
             Fuentes: declaración de la Secretaría de Gobernación del 28-01-2020 según reportes de prensa, enero de 2020; el medio exacto (comunicado, redes) no está establecido.]",
            "es", Some("The Ministry of the Interior said it does not recognize the INM's letter suspending organizations' visits: according to the Ministry, it was issued that same day without the authorization of higher authorities.\n\n\
             [Approximate time: the exact time is not established. Press reports place the disowning on the same evening of 28-01-2020 (Mexico City time; already 29-01-2020 in UTC), less than three hours after the news of the letter; 22:00 is an approximation. \
             Sources: the Ministry of the Interior's statement of 28-01-2020 as press reports give it, January 2020; the exact channel (release, social media) is not established.]"),
            &[("ngo_access", "denies_suspension", "2020-01-28", None)],
        ),
        (
            "inm", "Instituto Nacional de Migración", "2020-01-28T23:30", "press_release",
            "El INM anunció que las visitas de las organizaciones se reanudarán el 1 de febrero y que se reprogramarán las citas de diez organizaciones.\n\n\
             [Fecha, hora y medio aproximados: no están establecidos. La prensa sitúa el anuncio después del desconocimiento de la Secretaría de Gobernación; el comunicado en inglés de Amnistía Internacional (29-01-2020) dice que el INM habló de reprogramar las fechas antes de que la Secretaría se deslindara. Se registra la noche del 28-01-2020 como aproximación. \
             Fuentes: reportes de prensa, enero de 2020; Amnistía Internacional, comunicado, 29-01-2020.]",
            "es", Some("The INM announced that organizations' visits will resume on 1 February and that the appointments of ten organizations will be rescheduled.\n\n\
             [Approximate date, time and channel: they are not established. The press places the announcement after the Ministry of the Interior disowned the letter; Amnesty International's English release (29-01-2020) says the INM spoke of rescheduling before the Ministry distanced itself. It is recorded on the evening of 28-01-2020 as an approximation. \
             Sources: press reports, January 2020; Amnesty International, statement, 29-01-2020.]"),
            &[("ngo_access", "rescheduled", "2020-01-28", Some("2020-01-31")), ("ngo_access", "permitted", "2020-02-01", None)],
        ),
    ];
    let mut n = 0;
    for (authority, speaker, at, channel, text, lang, translation, claims) in statements {
        let mut pairs = vec![
            ("authority".to_string(), authority.to_string()),
            ("speaker".to_string(), speaker.to_string()),
            ("published_at".to_string(), at.to_string()),
            ("channel".to_string(), channel.to_string()),
            ("text".to_string(), text.to_string()),
            ("language".to_string(), lang.to_string()),
        ];
        if let Some(t) = translation {
            pairs.push(("translation".into(), t.into()));
        }
        let d = validate_statement(&RawInput::from_pairs(pairs), vigia_domain::geo::LEGAL_TIME_ZONE, now)
            .map_err(|e| anyhow::anyhow!("demo statement: {e}"))?;
        let s = store.create_statement(&actor, org.id, d).await?;
        for (topic, position, from, until) in claims {
            let mut pairs = vec![
                ("topic".to_string(), topic.to_string()),
                ("position".to_string(), position.to_string()),
                ("from".to_string(), from.to_string()),
            ];
            if let Some(u) = until {
                pairs.push(("until".into(), u.to_string()));
            }
            let c = validate_claim(&RawInput::from_pairs(pairs)).map_err(|e| anyhow::anyhow!("demo claim: {e}"))?;
            store.add_claim(&actor, s.id, c).await?;
        }
        n += 1;
    }
    Ok(n)
}

/// Shown on every demo visit: its population figures and findings were made up for the
/// demo (the 2019 press reports of more than 2,000 people at Siglo XXI are cited on the
/// facility, not here).
const ILLUSTRATIVE_VISIT: &str = "[Demo: visita ilustrativa; la población, los hallazgos y las respuestas no provienen de una publicación / illustrative visit; population, findings and answers are not from a publication.]";

/// A demo visit: organization, facility, date, total, children, held beyond the limit,
/// lawyer access answer, grave finding.
type DemoVisit = (&'static str, &'static str, &'static str, i64, i64, i64, &'static str, Option<&'static str>);

/// Monitoring visits by the organizations' monitors: overcrowding and children held at
/// several stations in 2019–2020, with findings and a sealed interview note each.
pub async fn seed_visits(store: &DynStore) -> anyhow::Result<usize> {
    let orgs = store.list_orgs().await?;
    let users = store.list_users(None).await?;
    let facilities = store.list_facilities().await?;
    let today = jiff::civil::date(2026, 1, 1);
    let visits: [DemoVisit; 7] = [
        (
            "defensoria-sur",
            "Siglo XXI",
            "2019-04-24",
            1900,
            34,
            210,
            "no",
            Some("Personas durmiendo en pasillos y en el patio, sin colchonetas suficientes."),
        ),
        (
            "defensoria-sur",
            "Siglo XXI",
            "2019-10-16",
            1310,
            18,
            95,
            "partly",
            Some("Un solo médico para todo el turno de la tarde."),
        ),
        ("defensoria-sur", "Siglo XXI", "2020-02-19", 820, 0, 40, "partly", None),
        ("defensoria-sur", "Tuxtla", "2019-11-06", 160, 9, 12, "no", None),
        (
            "casas-del-camino",
            "Villahermosa",
            "2019-08-14",
            310,
            22,
            30,
            "no",
            Some("Celdas de castigo en uso para quienes reclaman."),
        ),
        ("casas-del-camino", "Tenosique", "2020-01-15", 140, 11, 0, "partly", None),
        (
            "casas-del-camino",
            "Acayucan",
            "2019-07-03",
            1250,
            41,
            150,
            "no",
            Some("Familias separadas: madres en un módulo, hijos adolescentes en otro."),
        ),
    ];
    let mut n = 0;
    for (i, (slug, place, on, total, children, beyond, lawyer, grave)) in visits.into_iter().enumerate() {
        let (Some(org), Some(f)) =
            (orgs.iter().find(|o| o.slug == slug), facilities.iter().find(|f| f.draft.name.contains(place)))
        else {
            continue;
        };
        let actor = users
            .iter()
            .find(|u| u.org_id == org.id && u.role.as_str() == "monitor")
            .map(Actor::user)
            .unwrap_or_default();
        let mut report = serde_json::json!({
            "facility_id": f.id, "on": on, "time_in": "10:00", "time_out": "14:00", "team_size": 3,
            "areas_seen": "Dormitorios, comedor, patio", "areas_refused": "Área médica",
            "population": {"total": total, "men": total * 3 / 4, "women": total / 4 - children, "children_accompanied": children,
                           "held_beyond_limit": beyond, "asylum_seekers": total / 3},
            "sections": {
                "legal_safeguards": {"access_to_lawyer": lawyer, "interpreter": "partly", "observations": "Información de derechos solo en español."},
                "material_conditions": {"three_meals": "yes", "bed_for_everyone": if total > 900 { "no" } else { "partly" },
                                        "observations": ILLUSTRATIVE_VISIT}
            },
            "interview_notes": format!("Entrevista {}: relata presiones para firmar su retorno.", i + 1)
        });
        if let Some(g) = grave {
            report["findings"] =
                serde_json::json!([{"section": "material_conditions", "severity": 4, "description": g}]);
        }
        let draft = vigia_domain::visit::validate_visit(&report, today, f.draft.capacity)
            .map_err(|e| anyhow::anyhow!("demo visit {on} at {place}: {e}"))?;
        store.record_visit(&actor, org.id, &format!("demo-visit-{i:03}"), draft).await?;
        n += 1;
    }
    Ok(n)
}
