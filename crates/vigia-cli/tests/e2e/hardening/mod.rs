//! The findings of the independent security review (issue 14), each reproduced as the
//! reviewer did it: these tests failed before the fixes. `docs/security.md` lists every
//! finding with its fix and the test that guards it.

mod records;
mod sessions;
mod transport;

/// Runs SQL behind the app's back, as someone with the database open would; on
/// PostgreSQL with foreign-key checks off for that session, as the reviewer's
/// SQLite connection had them.
pub(crate) async fn behind_the_back(db: &vigia_store::testing::TestDb, sql: &str) -> Option<i64> {
    use sqlx::{Connection, Row};
    let q = sqlx::AssertSqlSafe(sql.to_string());
    match db.backend {
        vigia_store::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("connect");
            sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut c).await.expect("pragma");
            sqlx::query(q).fetch_optional(&mut c).await.expect("sql").and_then(|r| r.try_get::<i64, _>(0).ok())
        }
        vigia_store::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::query("SET session_replication_role = replica").execute(&mut c).await.expect("replica");
            sqlx::query(q).fetch_optional(&mut c).await.expect("sql").and_then(|r| r.try_get::<i64, _>(0).ok())
        }
    }
}
