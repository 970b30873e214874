//! Deadlines and limits derived from a case's events, each with its legal basis and the
//! calendar it is counted on (DOMAIN.md §2–§4). Pure: events and calendars in, an
//! assessment out, in the same order whatever order the events were recorded in.
//!
//! Rules:
//! - **36 hours** (Constitution art. 21, as SCJN AR 388/2022 reads it): an advocacy
//!   threshold shown beside the statutory limits, from the moment of detention.
//! - **Maximum detention** (LM art. 111): 15 working days from presentation; 60 when a
//!   ground I–IV is recorded; with ground V (a pending remedy) no fixed end is computed.
//!   Transfers do not restart it; a new detention after release starts a new period.
//! - **Child detained** (LM art. 99 from 2021-01-11; before, the Reglamento of the LGDNNA (2015), cited without an article: its number is not verified):
//!   a violation at once, for every detention period of a minor.
//! - **Asylum filing** (LRPCAP art. 18): 30 working days from entry into Mexico.
//! - **COMAR decision** (LRPCAP art. 24): 45 working days counted from the day after
//!   the request, 45 more when an extension is recorded.
//! - **Appeal** (LRPCAP art. 25): 15 working days from notification of a decision that
//!   does not recognize refugee status.
//! - **Amparo against a deportation** (Ley de Amparo art. 17 fr. IV, art. 20): no time
//!   limit ("en cualquier tiempo"), shown where a deadline would otherwise be.
//! - **Possible refoulement** (LRPCAP art. 6): a deportation or forced return while the
//!   person's asylum claim is pending (no decision yet, inside the appeal window, or an
//!   appeal filed and not decided) or after refugee status was recognized.
//!
//! Each rule's article, published text (where verified), version and what Vigía does
//! with it are in [`RuleId::text`] and [`ViolationKind::text`]: the rules page shows
//! those, from the same values the engine counts with.

mod assessment;
mod reminders;
mod rules;

#[cfg(test)]
mod tests;

pub use assessment::{assess, Assessment, ClaimState, Deadline, Status, Violation};
pub use reminders::{reminders, working_days_left, Reminder, RECENT_RETURN_DAYS};
pub use rules::{
    LegalText, RuleId, ViolationKind, APPEAL_DAYS, ART_6_LRPCAP, ART_99_IN_FORCE, ART_99_LM, ASYLUM_FILING_DAYS,
    COMAR_DECISION_DAYS, DETENTION_DAYS, DETENTION_DAYS_EXTENDED, THRESHOLD_HOURS,
};
