//! Agency calendars added by admins on top of the built-in ones.

use crate::*;

/// A non-working day or period an agency declared, with its source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CalendarRule {
    pub id: i64,
    pub calendar: String,
    pub start_date: String,
    pub end_date: String,
    pub label_es: String,
    pub label_en: String,
    pub source: String,
}

impl CalendarRule {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "calendar": self.calendar, "start_date": self.start_date, "end_date": self.end_date,
            "label_es": self.label_es, "label_en": self.label_en, "source": self.source,
        })
        .to_string()
    }

    /// The rule as the domain's clock reads it.
    pub fn to_rule(&self) -> vigia_domain::clock::Rule {
        vigia_domain::clock::Rule {
            when: vigia_domain::clock::When::Range { start: self.start_date.clone(), end: self.end_date.clone() },
            label_es: self.label_es.clone(),
            label_en: self.label_en.clone(),
            source: self.source.clone(),
            from: None,
            until: None,
        }
    }
}

/// The shipped calendars with every rule admins entered.
///
/// The rules are read from the store on every call, so a rule added through another
/// server counts at once; the calendars are built again only when the rules read differ
/// from those of the last build. Building them parses the shipped data, and each
/// calendar's working-day index (86 years, see the clock) is computed on its first use:
/// together milliseconds of work that every case, "today" and clock request repeated.
pub async fn calendars(store: &dyn Store) -> Result<std::sync::Arc<vigia_domain::clock::Calendars>> {
    type Built = Option<(Vec<CalendarRule>, std::sync::Arc<vigia_domain::clock::Calendars>)>;
    static LAST: std::sync::Mutex<Built> = std::sync::Mutex::new(None);
    let rules = store.calendar_rules().await?;
    let last = |l: &Built| l.as_ref().filter(|(r, _)| *r == rules).map(|(_, c)| c.clone());
    if let Some(cals) = last(&LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) {
        return Ok(cals);
    }
    let mut cals = vigia_domain::clock::Calendars::builtin();
    let names: std::collections::BTreeSet<&str> = rules.iter().map(|r| r.calendar.as_str()).collect();
    for name in names {
        let extra: Vec<_> = rules.iter().filter(|r| r.calendar == name).map(CalendarRule::to_rule).collect();
        cals = cals.with_extra_rules(name, &extra).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    let cals = std::sync::Arc::new(cals);
    *LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((rules, cals.clone()));
    Ok(cals)
}

/// Agency calendars added by admins on top of the built-in ones.
#[async_trait::async_trait]
pub trait Calendars: Send + Sync {
    async fn add_calendar_rule(&self, actor: &Actor, rule: CalendarRule) -> Result<CalendarRule>;
    async fn calendar_rules(&self) -> Result<Vec<CalendarRule>>;
}
