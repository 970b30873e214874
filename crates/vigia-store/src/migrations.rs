//! The schema's history, declared once for both backends: each migration's version,
//! name, SQL file (one per backend, same name under `migrations/sqlite/` and
//! `migrations/postgres/`) and the Rust step that must run after its SQL, in the same
//! transaction. Adding a migration is one line here and one file per backend; the
//! schema-parity test then checks the two backends still agree.

/// What runs after a migration's SQL, in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing: the SQL is the whole migration.
    None,
    /// The daily access counts start from the attempts already recorded.
    RebuildDaily,
    /// The rows kept are trusted once, here, in the transaction that adds the MAC
    /// column: after it, a row without a MAC lets no one in. Needs the master key.
    TrustRows,
    /// The audit chain as it stands is signed once: from then on only a writer with the
    /// key moves the head. Needs the master key.
    SignHead,
}

impl Step {
    /// Whether the step needs the master key (so it, and every later migration, waits
    /// until the key is chosen).
    pub(crate) fn keyed(self) -> bool {
        matches!(self, Step::TrustRows | Step::SignHead)
    }
}

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    pub step: Step,
}

/// The migrations of the backend whose SQL lives under `migrations/<dir>/`.
macro_rules! migrations {
    ($dir:literal; $(($version:literal, $name:literal, $file:literal, $step:ident)),+ $(,)?) => {
        [$($crate::migrations::Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $file)),
            step: $crate::migrations::Step::$step,
        }),+]
    };
}

/// The list itself, for one backend's folder.
macro_rules! all_migrations {
    ($dir:literal) => {
        migrations!($dir;
            (1, "foundation", "0001_foundation.sql", None),
            (2, "access", "0002_access.sql", None),
            (3, "evidence", "0003_evidence.sql", None),
            (4, "alerts", "0004_alerts.sql", None),
            (5, "calendar_rules", "0005_calendar_rules.sql", None),
            (6, "cases", "0006_cases.sql", None),
            (7, "case_documents", "0007_case_documents.sql", None),
            (8, "two_factor", "0008_two_factor.sql", None),
            (9, "statements", "0009_statements.sql", None),
            (10, "visits", "0010_visits.sql", None),
            (11, "access_daily", "0011_access_daily.sql", RebuildDaily),
            (12, "attempt_imports", "0012_attempt_imports.sql", None),
            (13, "webhook_deleted", "0013_webhook_deleted.sql", None),
            (14, "token_lifetime", "0014_token_lifetime.sql", None),
            (15, "password_resets", "0015_password_resets.sql", None),
            (16, "reviews_by_org", "0016_reviews_by_org.sql", None),
            (17, "sealed_evidence", "0017_sealed_evidence.sql", None),
            (18, "case_reference_key", "0018_case_reference_key.sql", None),
            (19, "key_check", "0019_key_check.sql", None),
            (20, "security_macs", "0020_security_macs.sql", TrustRows),
            (21, "audit_head_mac", "0021_audit_head_mac.sql", SignHead),
            (22, "records_bound", "0022_records_bound.sql", None),
            (23, "email", "0023_email.sql", None),
            (24, "publications", "0024_publications.sql", None),
            (25, "statistics", "0025_statistics.sql", None),
            (26, "recommendations", "0026_recommendations.sql", None),
            (27, "transparency", "0027_transparency.sql", None),
            (28, "consents", "0028_consents.sql", None),
            (29, "retention", "0029_retention.sql", None),
            (30, "attempt_cover", "0030_attempt_cover.sql", None),
            (31, "attempt_org_cover", "0031_attempt_org_cover.sql", None),
            (32, "list_pages", "0032_list_pages.sql", None),
            (33, "data_changes", "0033_data_changes.sql", None),
        )
    };
}

pub(crate) const SQLITE: [Migration; 33] = all_migrations!("sqlite");
pub(crate) const POSTGRES: [Migration; 33] = all_migrations!("postgres");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_run_in_order_and_keyed_steps_come_last() {
        for list in [&SQLITE, &POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{}", m.name);
                assert!(!m.sql.trim().is_empty(), "{}", m.name);
            }
            // Once a migration needs the key, every later one runs after it too.
            let first = list.iter().position(|m| m.step.keyed()).expect("a keyed step");
            assert_eq!(list[first].version, 20);
        }
    }
}
