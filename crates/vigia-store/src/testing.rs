//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database
//! on the server `VIGIA_TEST_DATABASE_URL` names. Each is removed when dropped.

use std::path::PathBuf;

use sqlx::Connection;

pub const PG_ENV: &str = "VIGIA_TEST_DATABASE_URL";

/// A database made for one test.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: crate::Backend,
    /// The SQLite file, or the temporary directory holding it.
    pub dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    let _ = getrandom::getrandom(&mut b);
    format!("{prefix}_{}_{}", std::process::id(), hex::encode(b))
}

/// The PostgreSQL server for tests, if configured.
pub fn pg_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|s| !s.trim().is_empty())
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique("vigia_test"));
        let _ = std::fs::create_dir_all(&dir);
        TestDb {
            url: crate::sqlite_url(&dir.join("vigia.db")),
            backend: crate::Backend::Sqlite,
            dir: Some(dir),
            pg: None,
        }
    }

    /// A new, empty PostgreSQL database on the test server.
    pub async fn postgres(server_url: &str) -> Result<TestDb, sqlx::Error> {
        let name = unique("vigia_t");
        let mut conn = sqlx::PgConnection::connect(server_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
        conn.close().await?;
        let url = replace_db_name(server_url, &name);
        Ok(TestDb { url, backend: crate::Backend::Postgres, dir: None, pg: Some((server_url.to_string(), name)) })
    }

    /// Both backends when PostgreSQL is configured, else SQLite alone (saying so).
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        match pg_url() {
            Some(url) => match TestDb::postgres(&url).await {
                Ok(db) => dbs.push(db),
                Err(e) => panic!("{PG_ENV} is set but PostgreSQL refused a new database: {e}"),
            },
            None => eprintln!("skipped: PostgreSQL backend ({PG_ENV} is not set)"),
        }
        dbs
    }
}

/// `postgres://u@h:5432/db?x` with the database name replaced.
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((server, name)) = self.pg.take() {
            // Drop runs outside any async context we can rely on: use a thread of its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            super::replace_db_name("postgres://root@127.0.0.1:5432/postgres", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_db_name("postgres://root@h/db?sslmode=disable", "x"),
            "postgres://root@h/x?sslmode=disable"
        );
        assert_eq!(super::replace_db_name("postgres://root@h", "x"), "postgres://root@h/x");
    }
}
