//! An alert as people read it, in the inbox, on the overview and in e-mails: title,
//! detail and link in the reader's language, times in Mexico's legal time.

use vigia_domain::account::Locale;
use vigia_store::Alert;

use crate::i18n::{tr, tr_args};

pub struct AlertView {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub detail: String,
    pub link: Option<String>,
    pub unread: bool,
    /// 0 urgent, 1 to act on, 2 for information ([`vigia_app::alerts::severity`]).
    pub severity: u8,
    pub severity_label: String,
}

pub fn view(l: Locale, a: &Alert) -> AlertView {
    let p: serde_json::Value = serde_json::from_str(&a.payload).unwrap_or_default();
    let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
    let (title, detail, link) = if a.kind == "deadline" || a.kind == "violation" {
        let prefix = if a.kind == "deadline" { "rule" } else { "violation" };
        let what = tr(l, &format!("{prefix}-{}", s("what")));
        let state = tr(l, &format!("alerts-case-{}", s("state")));
        (
            tr_args(l, "alerts-case", &[("case", s("case")), ("what", what)]),
            match p["due"].as_str() {
                Some(due) => tr_args(l, "alerts-case-due", &[("state", state), ("due", due.to_string())]),
                None => state,
            },
            p["case_id"].as_i64().map(|id| format!("/cases/{id}")),
        )
    } else if a.kind == "episode" {
        let facilities: Vec<&str> =
            p["facilities"].as_array().map(|v| v.iter().filter_map(|f| f.as_str()).collect()).unwrap_or_default();
        (
            tr_args(l, "alerts-episode", &[("start", s("start")), ("end", s("end"))]),
            tr_args(
                l,
                "alerts-episode-detail",
                &[
                    ("refusals", p["refusals"].to_string()),
                    ("attempts", p["attempts"].to_string()),
                    ("orgs", p["organizations"].to_string()),
                    ("facilities", facilities.join(", ")),
                ],
            ),
            Some(format!("/access?from={}&until={}", s("start"), s("end"))),
        )
    } else if a.kind == "retention" {
        (
            tr_args(l, "alerts-retention", &[("case", p["case_id"].to_string())]),
            tr_args(l, "alerts-retention-detail", &[("due", s("due_on"))]),
            p["case_id"].as_i64().map(|id| format!("/cases/{id}/erase")),
        )
    } else if a.kind == "request" {
        let what = tr(l, &format!("req-deadline-{}", s("what")));
        (
            tr_args(
                l,
                "alerts-request",
                &[
                    ("authority", crate::kit::label(l, "authority", &s("authority"))),
                    ("folio", s("folio")),
                    ("what", what),
                ],
            ),
            tr_args(
                l,
                "alerts-request-detail",
                &[
                    ("state", tr(l, &format!("req-today-{}", s("state")))),
                    ("due", s("due")),
                    ("left", p["working_days_left"].to_string()),
                ],
            ),
            p["request_id"].as_i64().map(|id| format!("/requests/{id}")),
        )
    } else if a.kind == "statistics" {
        let key = s("key");
        let name = vigia_domain::statistics::key_name(&key, l == Locale::Es);
        let month = vigia_domain::statistics::YearMonth::parse(&s("month"))
            .map(|m| format!("{} {}", tr(l, &format!("month-{}", m.month)), m.year))
            .unwrap_or_else(|| s("month"));
        let kind = if s("kind") == "break" { "break" } else { "spike" };
        let direction = if s("direction") == "down" { "stats-down" } else { "stats-up" };
        (
            tr_args(
                l,
                &format!("alerts-stats-{kind}"),
                &[
                    ("name", name),
                    ("measure", tr(l, &format!("stats-measure-{}", s("measure")))),
                    ("month", month.clone()),
                ],
            ),
            {
                let detail = tr_args(
                    l,
                    "alerts-stats-detail",
                    &[
                        ("value", p["value"].to_string()),
                        ("baseline", p["baseline"].to_string()),
                        ("direction", tr(l, direction)),
                    ],
                );
                if p["illustrative"] == true {
                    format!("{detail} {}", tr(l, "stats-illustrative-explained"))
                } else {
                    detail
                }
            },
            Some(format!("/statistics/series?measure={}&dimension={}&key={}", s("measure"), s("dimension"), key)),
        )
    } else {
        let outcome = crate::kit::label(l, "outcome", &s("outcome"));
        (
            tr_args(l, "alerts-refusal", &[("facility", s("facility")), ("outcome", outcome)]),
            tr_args(
                l,
                "alerts-refusal-detail",
                &[("org", s("organization")), ("when", local_time(&s("attempted_at")))],
            ),
            a.attempt_id.map(|id| format!("/access/{id}")),
        )
    };
    let severity = vigia_app::alerts::severity(a);
    AlertView {
        id: a.id,
        when: crate::kit::when(a.created_at),
        title,
        detail,
        link,
        unread: a.read_at.is_none(),
        severity,
        severity_label: tr(l, &format!("alerts-severity-{severity}")),
    }
}

/// An instant the payload holds in UTC (RFC 3339), shown in Mexico's legal time with
/// its abbreviation; anything else as it is.
pub fn local_time(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(ts) => vigia_domain::format_local(ts.as_microsecond(), vigia_domain::geo::LEGAL_TIME_ZONE),
        Err(_) => text.to_string(),
    }
}
