//! The two backends' schemas, migrated from their own SQL files, must agree: the same
//! tables, columns (normalized type, nullability), indexes (columns, uniqueness) and
//! foreign keys. Each backend's migrations are written by hand, so without this test a
//! column could be nullable on one and required on the other, or an index exist on one
//! only. Differences that are intended are listed in `INTENDED`, each with why.

use std::collections::BTreeSet;

use sqlx::{Connection, Row};
use vigia_store::testing::TestDb;
use vigia_store::{Backend, MasterKey};

/// What is allowed to differ, and why: `(backend that has it, item)`.
const INTENDED: &[(&str, &str, &str)] = &[];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Table(String),
    Column { table: String, name: String, kind: String, not_null: bool },
    Index { table: String, columns: Vec<String>, unique: bool },
    ForeignKey { table: String, column: String, to_table: String, to_column: String },
}

impl Item {
    fn describe(&self) -> String {
        match self {
            Item::Table(t) => format!("table {t}"),
            Item::Column { table, name, kind, not_null } => {
                format!("column {table}.{name} {kind}{}", if *not_null { " not null" } else { "" })
            }
            Item::Index { table, columns, unique } => {
                format!("{}index {table}({})", if *unique { "unique " } else { "" }, columns.join(", "))
            }
            Item::ForeignKey { table, column, to_table, to_column } => {
                format!("foreign key {table}.{column} -> {to_table}.{to_column}")
            }
        }
    }
}

/// One name per kind of value, whatever each backend calls it.
fn kind(declared: &str) -> String {
    let t = declared.trim().to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "integer" | "bigint" | "int" | "int8" | "int4" | "smallint" | "bigserial" | "serial" => "int",
        "text" | "varchar" | "character varying" | "char" | "character" => "text",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" | "double" | "float" | "float8" | "numeric" => "float",
        // SQLite has no boolean type: flags are INTEGER 0/1 there (or a BOOLEAN name it
        // stores as an integer), read as bool by sqlx. One kind for both.
        "boolean" | "bool" => "int",
        other => return other.to_string(),
    }
    .to_string()
}

async fn sqlite_schema(url: &str) -> BTreeSet<Item> {
    let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
    let mut out = BTreeSet::new();
    let tables: Vec<String> =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .fetch_all(&mut c)
            .await
            .expect("tables")
            .iter()
            .map(|r| r.get(0))
            .collect();
    for t in &tables {
        out.insert(Item::Table(t.clone()));
        for r in sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
            .bind(t)
            .fetch_all(&mut c)
            .await
            .expect("columns")
        {
            let (notnull, pk): (i64, i64) = (r.get(2), r.get(3));
            out.insert(Item::Column {
                table: t.clone(),
                name: r.get(0),
                kind: kind(&r.get::<String, _>(1)),
                not_null: notnull == 1 || pk > 0,
            });
        }
        for r in sqlx::query("SELECT name, \"unique\", origin FROM pragma_index_list(?)")
            .bind(t)
            .fetch_all(&mut c)
            .await
            .expect("indexes")
        {
            let (name, unique, origin): (String, i64, String) = (r.get(0), r.get(1), r.get(2));
            if origin == "pk" {
                continue;
            }
            let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind(&name)
                .fetch_all(&mut c)
                .await
                .expect("index columns")
                .iter()
                .map(|r| r.try_get::<String, _>(0).unwrap_or_else(|_| "(expression)".into()))
                .collect();
            out.insert(Item::Index { table: t.clone(), columns, unique: unique == 1 });
        }
        for r in sqlx::query("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?)")
            .bind(t)
            .fetch_all(&mut c)
            .await
            .expect("foreign keys")
        {
            let to_column: Option<String> = r.get(2);
            let to_table: String = r.get(1);
            out.insert(Item::ForeignKey {
                table: t.clone(),
                column: r.get(0),
                // A reference without a column names the referenced table's primary key.
                to_column: to_column.unwrap_or_else(|| "id".into()),
                to_table,
            });
        }
    }
    out
}

async fn postgres_schema(url: &str) -> BTreeSet<Item> {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    let mut out = BTreeSet::new();
    for r in sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables")
    {
        out.insert(Item::Table(r.get(0)));
    }
    for r in sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .expect("columns")
    {
        out.insert(Item::Column {
            table: r.get(0),
            name: r.get(1),
            kind: kind(&r.get::<String, _>(2)),
            not_null: r.get::<String, _>(3) == "NO",
        });
    }
    for r in sqlx::query(
        "SELECT t.relname::text, ix.indisunique, \
                array_agg(COALESCE(a.attname::text, '(expression)') ORDER BY k.n) \
         FROM pg_index ix \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE ns.nspname = 'public' AND NOT ix.indisprimary \
         GROUP BY ix.indexrelid, t.relname, ix.indisunique",
    )
    .fetch_all(&mut c)
    .await
    .expect("indexes")
    {
        out.insert(Item::Index { table: r.get(0), columns: r.get(2), unique: r.get(1) });
    }
    for r in sqlx::query(
        "SELECT cl.relname::text, a.attname::text, fcl.relname::text, fa.attname::text \
         FROM pg_constraint c \
         JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_class fcl ON fcl.oid = c.confrelid \
         JOIN pg_namespace ns ON ns.oid = cl.relnamespace \
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(att, fatt) \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att \
         JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fatt \
         WHERE c.contype = 'f' AND ns.nspname = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .expect("foreign keys")
    {
        out.insert(Item::ForeignKey { table: r.get(0), column: r.get(1), to_table: r.get(2), to_column: r.get(3) });
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgresql_schemas_agree() {
    let Some(server) = std::env::var("VIGIA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: schema parity (set VIGIA_TEST_DATABASE_URL to compare with PostgreSQL)");
        return;
    };
    let key = MasterKey::generate().expect("key");
    let lite = TestDb::sqlite();
    let pg = TestDb::postgres(&server).await.expect("postgres test database");
    for db in [&lite, &pg] {
        // Opening migrates the whole way, keyed steps included.
        vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("store opens");
    }
    assert_eq!((lite.backend, pg.backend), (Backend::Sqlite, Backend::Postgres));
    let (a, b) = (sqlite_schema(&lite.url).await, postgres_schema(&pg.url).await);
    assert!(a.iter().any(|i| matches!(i, Item::Table(t) if t == "audit_log")), "introspection finds tables");
    assert!(a.iter().any(|i| matches!(i, Item::ForeignKey { .. })), "and foreign keys");
    assert!(a.iter().any(|i| matches!(i, Item::Index { .. })), "and indexes");
    let intended = |backend: &str, item: &Item| INTENDED.iter().any(|(b, d, _)| *b == backend && *d == item.describe());
    let only_sqlite: Vec<String> = a.difference(&b).filter(|i| !intended("sqlite", i)).map(Item::describe).collect();
    let only_postgres: Vec<String> =
        b.difference(&a).filter(|i| !intended("postgres", i)).map(Item::describe).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the schemas differ:\n  only in SQLite:\n    {}\n  only in PostgreSQL:\n    {}",
        only_sqlite.join("\n    "),
        only_postgres.join("\n    ")
    );
    // Every intended difference is still a difference (a fixed one is taken off the list).
    for (backend, described, why) in INTENDED {
        let (mine, other) = if *backend == "sqlite" { (&a, &b) } else { (&b, &a) };
        let found = mine.difference(other).any(|i| i.describe() == *described);
        assert!(found, "{described} ({why}) no longer differs: take it off INTENDED");
    }
}
