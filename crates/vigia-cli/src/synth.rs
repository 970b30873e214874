//! `vigia synth`: a large synthetic dataset for load tests and benchmarks (issue #19).
//!
//! Ten years of work by the demo's organizations at the demo's facilities, at
//! `--scale 1`: 1,000,000 access attempts, 100,000 cases with about 400,000 events,
//! 100,000 statements and 10,000 visits. Everything goes in through the store's own
//! write paths (an import's rows, `create_case`, `add_case_event`, `create_statement`,
//! `add_claim`, `record_visit`) after the domain's validation, so each record is sealed,
//! audited and counted exactly as one a person enters.
//!
//! Habits it reproduces: each facility turns visitors away at its own rate, with
//! streaks of refusals (a few closings a year, days to two weeks long); the suspension
//! of January 2020 and the health measures of spring 2020 across all facilities; visits
//! that find more people than the published capacity; open cases whose detention
//! reaches its legal limit today, tomorrow or already has; statements that claim access
//! was normal during a streak of refusals (contradictions to find).
//!
//! The same seed and the same day give the same dataset; the dates of open cases count
//! back from today so that a "today" list always has deadlines. Every record is
//! invented: it is for load, never for publication.

use anyhow::{anyhow, bail};
use jiff::civil::Date;
use jiff::Span;
use vigia_domain::access::validate;
use vigia_domain::case::{validate_case, validate_event};
use vigia_domain::facility::Facility;
use vigia_domain::input::RawInput;
use vigia_domain::statement::{validate_claim, validate_statement};
use vigia_store::{Actor, DynStore, ImportFeed, ImportSource};

use crate::demo::Rng;

/// How many of each record a dataset has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub attempts: usize,
    pub cases: usize,
    pub statements: usize,
    pub visits: usize,
}

impl Plan {
    /// The issue's ten-year dataset times `scale` (at least one of each).
    pub fn at(scale: f64) -> anyhow::Result<Plan> {
        if !(scale.is_finite() && scale > 0.0 && scale <= 10.0) {
            bail!("--scale must be more than 0 and at most 10 (1 = a million attempts)");
        }
        let n = |full: f64| ((full * scale).round() as usize).max(1);
        Ok(Plan { attempts: n(1e6), cases: n(1e5), statements: n(1e5), visits: n(1e4) })
    }
}

/// What a run wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Made {
    pub attempts: usize,
    pub cases: usize,
    pub events: usize,
    pub statements: usize,
    pub claims: usize,
    pub visits: usize,
}

/// The part of a run being written, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Attempts,
    Cases,
    Statements,
    Visits,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Attempts => "attempts",
            Phase::Cases => "cases",
            Phase::Statements => "statements",
            Phase::Visits => "visits",
        }
    }
}

/// Tells `progress` of every thousandth record and of the last.
fn every_thousand(progress: &mut (dyn FnMut(Phase, usize, usize) + Send), phase: Phase, done: usize, of: usize) {
    if done.is_multiple_of(1_000) || done == of {
        progress(phase, done, of);
    }
}

/// Ten years, ending yesterday.
const YEARS: i64 = 10;

/// Fills an empty database: the demo (organizations, people, facilities, coalition and
/// its story), then the plan's records. `progress` hears (phase, done, of) now and then.
pub async fn generate(
    store: &DynStore,
    plan: Plan,
    seed: u64,
    today: Date,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> anyhow::Result<Made> {
    if !crate::demo::seed(store).await? {
        bail!("the database is not empty: `vigia synth` fills a new one");
    }
    let first = today.checked_sub(Span::new().days(YEARS * 365 + YEARS / 4))?;
    let world = World::read(store, seed, first, today).await?;
    let attempts = attempts(store, &world, plan.attempts, progress).await?;
    let (cases, events) = cases(store, &world, plan.cases, progress).await?;
    let (statements, claims) = statements(store, &world, plan.statements, progress).await?;
    let visits = visits(store, &world, plan.visits, progress).await?;
    Ok(Made { attempts, cases, events, statements, claims, visits })
}

/// The demo's organizations, people and facilities, and the habits drawn for them.
struct World {
    seed: u64,
    first: Date,
    today: Date,
    facilities: Vec<Facility>,
    /// Per facility: its usual refusal rate (percent) and its closings (first, last day).
    habits: Vec<(u64, Vec<(Date, Date)>)>,
    orgs: Vec<Staff>,
}

/// An organization and who in it writes each kind of record.
struct Staff {
    org_id: i64,
    monitor: Actor,
    /// The lawyer (or else the coordinator) and their user id, if the organization has one.
    lawyer: Option<(Actor, i64)>,
    analyst: Actor,
}

/// An event to add to a case: kind, day, other fields.
type DrawnEvent = (&'static str, Date, Vec<(&'static str, String)>);

impl World {
    async fn read(store: &DynStore, seed: u64, first: Date, today: Date) -> anyhow::Result<World> {
        let facilities = store.list_facilities().await?;
        if facilities.is_empty() {
            bail!("no facilities to work with");
        }
        let users = store.list_users(None).await?;
        let mut rng = Rng(seed | 1);
        let days = first.until(today)?.get_days().max(1) as u64;
        let habits = facilities
            .iter()
            .map(|_| {
                let usual = 4 + rng.below(22);
                let closings = (0..YEARS * 3)
                    .map(|_| {
                        let start = first.checked_add(Span::new().days(rng.below(days) as i64)).unwrap_or(first);
                        let end = start.checked_add(Span::new().days(2 + rng.below(13) as i64)).unwrap_or(start);
                        (start, end)
                    })
                    .collect();
                (usual, closings)
            })
            .collect();
        let mut orgs = Vec::new();
        for org in store.list_orgs().await? {
            let staff: Vec<_> = users.iter().filter(|u| u.org_id == org.id && !u.disabled).collect();
            let with = |role: &str| staff.iter().find(|u| u.role.as_str() == role).map(|u| Actor::user(u));
            let Some(monitor) = with("monitor").or_else(|| with("coordinator")) else { continue };
            let analyst = with("analyst").or_else(|| with("coordinator")).unwrap_or(monitor);
            let lawyer = staff
                .iter()
                .find(|u| u.role.as_str() == "lawyer")
                .or_else(|| staff.iter().find(|u| u.role.as_str() == "coordinator"))
                .map(|u| (Actor::user(u), u.id));
            orgs.push(Staff { org_id: org.id, monitor, lawyer, analyst });
        }
        if orgs.is_empty() {
            bail!("no organization has a monitor");
        }
        Ok(World { seed, first, today, facilities, habits, orgs })
    }

    fn day(&self, offset: i64) -> Date {
        self.first.checked_add(Span::new().days(offset)).unwrap_or(self.first)
    }

    fn days(&self) -> i64 {
        self.first.until(self.today).map(|s| s.get_days() as i64).unwrap_or(1).max(1)
    }

    /// The share in percent of attempts refused at facility `f` (an index) on `day`.
    fn refusal_rate(&self, f: usize, day: Date) -> u64 {
        use jiff::civil::date;
        if day >= date(2020, 1, 14) && day <= date(2020, 1, 31) {
            return 85;
        }
        if day >= date(2020, 3, 23) && day <= date(2020, 6, 30) {
            return 70;
        }
        let (usual, closings) = &self.habits[f];
        if closings.iter().any(|(a, b)| day >= *a && day <= *b) {
            90
        } else {
            *usual
        }
    }
}

/// One organization's attempts, drawn a few thousand at a time as the store asks:
/// spread over the ten years, daytime only (so no time falls in a change of clocks),
/// mostly at the facilities of the organization's region.
struct AttemptRows {
    world: std::sync::Arc<WorldRows>,
    org: usize,
    rng: Rng,
    next: usize,
    total: usize,
    done: bool,
}

/// What drawing attempts needs from the world, shared with the store's reading thread.
struct WorldRows {
    days: i64,
    first: Date,
    facilities: Vec<(i64, &'static str)>,
    rates: Vec<Vec<u8>>,
    now: vigia_domain::Micros,
}

impl ImportSource for AttemptRows {
    fn next_feed(&mut self) -> Option<ImportFeed> {
        if self.done {
            return None;
        }
        if self.next >= self.total {
            self.done = true;
            return Some(ImportFeed::Complete);
        }
        let w = &self.world;
        let per_day = self.total.div_ceil(w.days as usize).max(1);
        let minutes = (900 / per_day).max(1);
        let mut rows = Vec::with_capacity(2_000);
        while rows.len() < 2_000 && self.next < self.total {
            let i = self.next;
            self.next += 1;
            let offset = (i / per_day) as i64;
            let day = w.first.checked_add(Span::new().days(offset)).unwrap_or(w.first);
            let minute = (i % per_day) * minutes + self.org % minutes;
            let n = w.facilities.len();
            let f = if self.rng.below(4) == 0 {
                self.rng.below(n as u64) as usize
            } else {
                (self.org * 5 + self.rng.below(5) as usize) % n
            };
            let rate = w.rates[f].get(offset as usize).copied().unwrap_or(10);
            let refused = self.rng.below(100) < u64::from(rate);
            let (outcome, reason) = if refused {
                [
                    ("denied", "orders_from_above"),
                    ("denied", "no_authorization_on_file"),
                    ("no_response", "none_given"),
                    ("cancelled_by_authority", "orders_from_above"),
                ][self.rng.below(4) as usize]
            } else {
                [("granted", ""), ("granted", ""), ("granted", ""), ("partially_granted", "capacity"), ("delayed", "")]
                    [self.rng.below(5) as usize]
            };
            let purposes = ["legal_assistance", "legal_assistance", "monitoring", "religious", "humanitarian"];
            let mut pairs = vec![
                ("facility_id", w.facilities[f].0.to_string()),
                ("attempted_at", format!("{day}T{:02}:{:02}", 6 + minute / 60, minute % 60)),
                ("purpose", purposes[self.rng.below(5) as usize].to_string()),
                ("team_size", (1 + self.rng.below(4)).to_string()),
                ("outcome", outcome.to_string()),
                ("visibility", if self.rng.below(10) == 0 { "private" } else { "coalition" }.to_string()),
            ];
            if !reason.is_empty() {
                pairs.push(("reason_category", reason.to_string()));
            }
            // Drawn rows always pass; one that did not would be a defect here, and
            // ending the feed makes the import keep nothing.
            match validate(&RawInput::from_pairs(pairs), w.facilities[f].1, w.now) {
                Ok(d) => rows.push(d),
                Err(_) => {
                    self.done = true;
                    return None;
                }
            }
        }
        Some(ImportFeed::Rows(rows))
    }
}

async fn attempts(
    store: &DynStore,
    world: &World,
    total: usize,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> anyhow::Result<usize> {
    let days = world.days();
    let rates = (0..world.facilities.len())
        .map(|f| (0..days).map(|d| world.refusal_rate(f, world.day(d)) as u8).collect())
        .collect();
    let rows = std::sync::Arc::new(WorldRows {
        days,
        first: world.first,
        facilities: world.facilities.iter().map(|f| (f.id, f.time_zone())).collect(),
        rates,
        now: vigia_store::now_micros(),
    });
    let orgs = world.orgs.len();
    let mut written = 0;
    for (i, Staff { org_id, monitor, .. }) in world.orgs.iter().enumerate() {
        let share = total / orgs + usize::from(i < total % orgs);
        let source = AttemptRows {
            world: rows.clone(),
            org: i,
            rng: Rng(world.seed.rotate_left(7 + i as u32) | 1),
            next: 0,
            total: share,
            done: false,
        };
        let import = store
            .import_attempts_fed(monitor, *org_id, None, Box::new(source))
            .await?
            .ok_or_else(|| anyhow!("a drawn attempt did not pass validation"))?;
        written += import.row_count as usize;
        progress(Phase::Attempts, written, total);
    }
    Ok(written)
}

const GIVEN: [&str; 8] = [
    "José Armando",
    "María Fernanda",
    "Kevin Alexander",
    "Yeni Maribel",
    "Jean Robert",
    "Ingrid Paola",
    "Óscar René",
    "Keila Yamileth",
];
const FAMILY: [&str; 8] = [
    "Hernández Pérez",
    "López Ramírez",
    "Gómez Orellana",
    "Joseph Pierre",
    "Reyes Mejía",
    "Pineda Castro",
    "Aguilar Deras",
    "Baptiste Louis",
];
const ORIGINS: [(&str, &str); 6] = [("HN", "es"), ("GT", "es"), ("SV", "es"), ("HT", "ht"), ("CU", "es"), ("VE", "es")];

/// Share of cases still open, in thousandths: their detention counts back from today.
const OPEN_PER_THOUSAND: u64 = 20;

async fn cases(
    store: &DynStore,
    world: &World,
    total: usize,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> anyhow::Result<(usize, usize)> {
    let cals = vigia_store::calendars(&**store).await?;
    let inm = cals.get("inm").map_err(|e| anyhow!("the INM calendar: {e}"))?;
    let lawyers: Vec<_> = world.orgs.iter().filter_map(|s| s.lawyer.map(|l| (s.org_id, l))).collect();
    if lawyers.is_empty() {
        return Ok((0, 0));
    }
    let mut rng = Rng(world.seed.rotate_left(23) | 1);
    let days = world.days() - 60;
    let (mut made, mut events) = (0, 0);
    for i in 0..total {
        let (org, (actor, lawyer_id)) = &lawyers[i % lawyers.len()];
        let open = rng.below(1000) < OPEN_PER_THOUSAND;
        let minor = rng.below(100) < 12;
        let f = &world.facilities[rng.below(world.facilities.len() as u64) as usize];
        let (nat, lang) = ORIGINS[rng.below(ORIGINS.len() as u64) as usize];
        let mut pairs = vec![
            ("reference", format!("SYN-{org}-{i:07}")),
            ("full_name", format!("{} {}", GIVEN[rng.below(8) as usize], FAMILY[rng.below(8) as usize])),
            ("nationality", nat.to_string()),
            ("languages", lang.to_string()),
            ("sex", if rng.below(2) == 0 { "female" } else { "male" }.to_string()),
            ("age_group", if minor { "adolescent_12_17" } else { "adult_18_59" }.to_string()),
            ("lawyer_user_id", lawyer_id.to_string()),
            ("status", if open { "open" } else { "closed" }.to_string()),
            ("facility_id", f.id.to_string()),
        ];
        if minor {
            pairs.push(("vulnerabilities", "unaccompanied".to_string()));
        }
        let draft = validate_case(&RawInput::from_pairs(pairs), world.today).map_err(|e| anyhow!("case {i}: {e}"))?;
        let case = store.create_case(actor, *org, draft).await?;
        // Open: detained 0 to 20 working days ago, so some reach the 15-day limit today.
        let detained = if open {
            crate::demo::working_days_before(&cals, world.today, rng.below(21) as u32)
        } else {
            world.day(rng.below(days.max(1) as u64) as i64)
        };
        let entered = detained.checked_sub(Span::new().days(3 + rng.below(20) as i64)).unwrap_or(detained);
        let mut evs: Vec<DrawnEvent> =
            vec![("entered_mexico", entered, vec![]), ("detained", detained, vec![("facility_id", f.id.to_string())])];
        if rng.below(100) < 45 {
            evs.push(("asylum_requested", detained.checked_add(Span::new().days(2)).unwrap_or(detained), vec![]));
        }
        for (kind, pct) in [("pressure_to_abandon", 18), ("denied_lawyer", 10), ("ill_treatment", 8)] {
            if rng.below(100) < pct {
                let on = detained.checked_add(Span::new().days(1 + rng.below(5) as i64)).unwrap_or(detained);
                evs.push((kind, on, vec![("note", "Relato sintético / synthetic account.".to_string())]));
            }
        }
        if !open {
            let out = inm.add_working_days(detained, 5 + rng.below(40) as u32).unwrap_or(detained);
            evs.push((if rng.below(100) < 40 { "deported" } else { "released" }, out, vec![]));
        }
        for (kind, on, extra) in evs {
            if on > world.today {
                continue;
            }
            let mut pairs = vec![("kind", kind.to_string()), ("on", on.to_string())];
            pairs.extend(extra);
            let e = validate_event(&RawInput::from_pairs(pairs), world.today).map_err(|e| anyhow!("event: {e}"))?;
            store.add_case_event(actor, *org, case.id, e).await?;
            events += 1;
        }
        made += 1;
        every_thousand(progress, Phase::Cases, made, total);
    }
    Ok((made, events))
}

/// What authorities say, in invented words: most of it routine; a tenth claims access
/// is normal over the month after it, whatever the attempts of that month show.
async fn statements(
    store: &DynStore,
    world: &World,
    total: usize,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> anyhow::Result<(usize, usize)> {
    let mut rng = Rng(world.seed.rotate_left(41) | 1);
    let now = vigia_store::now_micros();
    let days = world.days();
    let (mut made, mut claims) = (0, 0);
    let channels = ["press_release", "social_media", "press_conference", "official_letter", "interview"];
    for i in 0..total {
        let Staff { org_id: org, analyst, .. } = &world.orgs[i % world.orgs.len()];
        let day = world.day(rng.below(days as u64) as i64);
        let authority = ["inm", "inm", "inm", "segob", "comar"][rng.below(5) as usize];
        let claim = rng.below(10) == 0;
        let text = if claim {
            "[Sintético / synthetic] La autoridad asegura que las organizaciones acreditadas entran con normalidad a las estaciones."
        } else {
            "[Sintético / synthetic] Comunicado sobre la operación ordinaria de las estaciones migratorias."
        };
        let pairs = vec![
            ("authority", authority.to_string()),
            ("speaker", format!("Vocería {}", authority.to_uppercase())),
            ("published_at", format!("{day}T{:02}:{:02}", 8 + rng.below(12), rng.below(60))),
            ("channel", channels[rng.below(5) as usize].to_string()),
            ("text", text.to_string()),
            ("language", "es".to_string()),
        ];
        let d = validate_statement(&RawInput::from_pairs(pairs), vigia_domain::geo::LEGAL_TIME_ZONE, now)
            .map_err(|e| anyhow!("statement {i}: {e}"))?;
        let s = store.create_statement(analyst, *org, d).await?;
        if claim {
            let until = day.checked_add(Span::new().days(30)).unwrap_or(day);
            let pairs = vec![
                ("topic", "ngo_access".to_string()),
                ("position", "permitted".to_string()),
                ("from", day.to_string()),
                ("until", until.to_string()),
            ];
            let c = validate_claim(&RawInput::from_pairs(pairs)).map_err(|e| anyhow!("claim: {e}"))?;
            store.add_claim(analyst, s.id, c).await?;
            claims += 1;
        }
        made += 1;
        every_thousand(progress, Phase::Statements, made, total);
    }
    Ok((made, claims))
}

/// Monitoring visits: a third find more people than the facility's published capacity.
async fn visits(
    store: &DynStore,
    world: &World,
    total: usize,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> anyhow::Result<usize> {
    let mut rng = Rng(world.seed.rotate_left(59) | 1);
    let days = world.days();
    let mut made = 0;
    for i in 0..total {
        let Staff { org_id: org, monitor, .. } = &world.orgs[i % world.orgs.len()];
        let f = &world.facilities[rng.below(world.facilities.len() as u64) as usize];
        let on = world.day(rng.below(days as u64) as i64);
        let capacity = f.draft.capacity.unwrap_or(200).max(10);
        let total_people = capacity * (50 + rng.below(130) as i64) / 100;
        let children = total_people * rng.below(8) as i64 / 100;
        let beyond = total_people * rng.below(15) as i64 / 100;
        let lawyer = ["yes", "partly", "no"][rng.below(3) as usize];
        let mut report = serde_json::json!({
            "facility_id": f.id, "on": on.to_string(), "time_in": "10:00", "time_out": "13:30", "team_size": 2 + rng.below(3),
            "areas_seen": "Dormitorios, comedor, patio",
            "population": {"total": total_people, "men": total_people * 3 / 4, "women": total_people / 4 - children,
                           "children_accompanied": children, "held_beyond_limit": beyond, "asylum_seekers": total_people / 3},
            "sections": {
                "legal_safeguards": {"access_to_lawyer": lawyer},
                "material_conditions": {"bed_for_everyone": if total_people > capacity { "no" } else { "yes" },
                                        "observations": "[Sintético / synthetic]"}
            }
        });
        if total_people > capacity && rng.below(2) == 0 {
            report["findings"] = serde_json::json!([{"section": "material_conditions", "severity": 3,
                "description": "[Sintético / synthetic] Personas durmiendo en pasillos."}]);
        }
        let draft = vigia_domain::visit::validate_visit(&report, world.today, f.draft.capacity)
            .map_err(|e| anyhow!("visit {i}: {e}"))?;
        store.record_visit(monitor, *org, &format!("synth-visit-{i:06}"), draft).await?;
        made += 1;
        every_thousand(progress, Phase::Visits, made, total);
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_scales_the_issues_dataset_and_refuses_nonsense() {
        let full = Plan::at(1.0).expect("full");
        assert_eq!(full, Plan { attempts: 1_000_000, cases: 100_000, statements: 100_000, visits: 10_000 });
        let tiny = Plan::at(0.00001).expect("tiny");
        assert_eq!(tiny, Plan { attempts: 10, cases: 1, statements: 1, visits: 1 });
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 11.0] {
            assert!(Plan::at(bad).is_err(), "{bad}");
        }
    }
}
