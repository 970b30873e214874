//! What a facility's page shows of the viewer's visits there.

use vigia_domain::account::Locale;
use vigia_domain::visit;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::tr;
use crate::kit::VisitRow;
use crate::state::AppState;

/// What a facility's page shows of the viewer's visits: each visit, occupancy over time
/// as a chart, and the flags of the latest visit (the open violations).
#[derive(Clone)]
pub struct FacilityVisits {
    pub rows: Vec<VisitRow>,
    pub chart: String,
    pub open: Vec<(String, String)>,
}

pub async fn for_facility(
    st: &AppState,
    ctx: &Ctx,
    f: &vigia_domain::facility::Facility,
) -> Result<FacilityVisits, WebError> {
    let Some(user) = &ctx.user else { return Ok(FacilityVisits { rows: vec![], chart: String::new(), open: vec![] }) };
    let l = ctx.locale;
    let visits = st.store.visits(user.org_id, Some(f.id)).await?;
    let cap = f.draft.capacity;
    let assessed: Vec<_> = visits.iter().map(|v| (v, visit::assess(&v.draft, cap))).collect();
    let rows = assessed
        .iter()
        .map(|(v, (ind, flags))| VisitRow {
            id: v.id,
            on: v.draft.on.to_string(),
            facility: f.draft.name.clone(),
            occupancy: ind.occupancy.map(|o| format!("{:.0} %", o * 100.0)).unwrap_or_default(),
            flags: flags.iter().map(|x| tr(l, &format!("flag-{}", x.flag.as_str()))).collect(),
        })
        .collect();
    let open = assessed
        .first()
        .map(|(_, (_, flags))| {
            flags
                .iter()
                .map(|x| {
                    (
                        tr(l, &format!("flag-{}", x.flag.as_str())),
                        match l {
                            Locale::Es => x.basis_es,
                            Locale::En => x.basis_en,
                        }
                        .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    // Occupancy by visit, oldest first, as bars against the 100 % line.
    let points: Vec<(String, f64)> =
        assessed.iter().rev().filter_map(|(v, (ind, _))| ind.occupancy.map(|o| (v.draft.on.to_string(), o))).collect();
    let chart = if points.is_empty() {
        String::new()
    } else {
        let bars: Vec<crate::kit::chart::Bar> = points
            .iter()
            .map(|(date, o)| crate::kit::chart::Bar {
                shaded: false,
                label: date[..7].to_string(),
                value: *o,
                shown: format!("{:.0} %", o * 100.0),
                tip: format!("{date}: {:.0} %", o * 100.0),
                alarm: *o > 1.0,
            })
            .collect();
        crate::kit::chart::bars("occupancy-chart", &tr(l, "visit-occupancy"), &bars, 1.0, Some((1.0, "100 %")))
            + &crate::kit::chart::figures(
                &tr(l, "chart-figures"),
                (&tr(l, "chart-month"), &tr(l, "visit-occupancy")),
                &bars,
            )
    };
    Ok(FacilityVisits { rows, chart, open })
}
