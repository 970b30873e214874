//! The demo dataset: three organizations of the kinds that use Vigía, a user for each
//! role, the known Mexican detention facilities (DOMAIN.md §7; capacity only where it
//! was published) and notes built around the January 2020 episode, written in our
//! own words.

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

const PUBLISHED: &str =
    "Capacidad publicada; registro parcial de estaciones (DOMAIN.md §7). Coordenadas aproximadas del municipio.";
const UNKNOWN: &str = "Capacidad no publicada: se deja sin dato. Coordenadas aproximadas del municipio.";

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
            PUBLISHED,
        ),
        f("Estación Migratoria Reynosa", EstacionMigratoria, "28", "Reynosa", 26.0508, -98.2978, Some(50), PUBLISHED),
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

/// (facility name, organization slug, note) — what an organization keeps privately.
const NOTES: [(&str, &str, &str); 6] = [
    (
        "Estación Migratoria Siglo XXI",
        "defensoria-sur",
        "13/01/2020: el INM no renovó el permiso de visita de un centro de derechos humanos aliado. Contacto en la caseta: turno matutino, pedir hablar con la subdirección jurídica.",
    ),
    (
        "Estación Migratoria Siglo XXI",
        "defensoria-sur",
        "Abril 2019: personas entrevistadas a la salida describen dormitorios con más del doble de su capacidad publicada (960).",
    ),
    (
        "Estación Migratoria Tuxtla Gutiérrez (Cupape I)",
        "defensoria-sur",
        "20/01/2020: no nos dejaron entrar; el oficial dijo que había 'órdenes de arriba'. Dos familias hondureñas con niños pequeños adentro según sus familiares.",
    ),
    (
        "Estación Migratoria Villahermosa",
        "casas-del-camino",
        "21/01/2020: la pastoral no pudo entrar a la misa semanal; sin explicación por escrito.",
    ),
    (
        "Estación Migratoria Iztapalapa (Las Agujas)",
        "coalicion-nacional",
        "21/01/2020: tres organizaciones de la coalición fueron rechazadas en la puerta el mismo día.",
    ),
    (
        "Estación Migratoria Comitán",
        "casas-del-camino",
        "28/01/2020: nos mostraron un oficio que suspende la entrada de organizaciones y asociaciones religiosas 'hasta nuevo aviso'.",
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
            "Estación Migratoria Siglo XXI" => "Reportes de prensa de abril de 2019 describen más de 2,000 personas alojadas, por encima de la capacidad publicada.",
            "Estación Migratoria Ciudad Juárez" => "Incendio del 27 de marzo de 2023: 40 personas murieron.",
            "Estancia Provisional Mexicali" => "Estancia provisional tipo B; cerrada en 2025 (fecha exacta por confirmar, por eso no se registra fecha de cierre).",
            _ => continue,
        };
        d.sources = Some(format!("{}\n{}", d.sources.unwrap_or_default(), note));
        store.update_facility(&monitor, f.id, Some(f.version), d).await?;
    }
    for (facility, org, text) in NOTES {
        let f = list
            .iter()
            .find(|f| f.draft.name == facility)
            .ok_or_else(|| anyhow::anyhow!("demo facility {facility}"))?;
        let org = orgs.iter().find(|o| o.slug == org).ok_or_else(|| anyhow::anyhow!("demo org {org}"))?;
        let author = users.iter().find(|u| u.org_id == org.id).map(Actor::user).unwrap_or_default();
        store.add_facility_note(&author, org.id, f.id, text).await?;
    }
    Ok(true)
}

pub fn print_accounts() {
    println!("Demo accounts (password for all: {PASSWORD}):");
    for (email, _, role, org, _) in USERS {
        println!("  {email:<34} {role:<12} {org}");
    }
}
