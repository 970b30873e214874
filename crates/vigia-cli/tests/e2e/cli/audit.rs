//! `vigia audit`: a row edited behind the app's back, daily counts out of step.

use sqlx::Connection;

use super::{init, run, text, TempDir};

#[test]
fn audit_verify_catches_a_row_edited_directly_in_sqlite() {
    let t = TempDir::new("audit");
    let dir = t.data();
    init(&dir);
    let csv = t.0.join("f.csv");
    std::fs::write(
        &csv,
        "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\nAcayucan,estacion_migratoria,30,836\n",
    )
    .expect("write");
    assert!(run(&dir, &["facility", "import", csv.to_str().expect("p")]).status.success());
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "{:?}", text(&o));

    let url = vigia_store::sqlite_url(&dir.join("vigia.db"));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query("UPDATE facilities SET capacity = 2000 WHERE name = 'Acayucan'")
            .execute(&mut c)
            .await
            .expect("edit");
    });
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(err.contains("BROKEN: facility 2 differs from its last audited version"), "{err}");

    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query("UPDATE facilities SET capacity = 836 WHERE name = 'Acayucan'")
            .execute(&mut c)
            .await
            .expect("edit");
        sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET action = 'update' WHERE seq = 2")
            .execute(&mut c)
            .await
            .expect("edit");
    });
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("BROKEN: entry 2 was altered"), "{:?}", text(&o));
}

#[test]
fn daily_counts_out_of_step_are_reported_and_recounted() {
    let t = TempDir::new("recount");
    let dir = t.data();
    init(&dir);
    let csv = t.0.join("f.csv");
    std::fs::write(&csv, "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\n").expect("write");
    assert!(run(&dir, &["facility", "import", csv.to_str().expect("p")]).status.success());
    let url = vigia_store::sqlite_url(&dir.join("vigia.db"));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query(
            "INSERT INTO access_daily (facility_id, day, org_id, purpose, shared, month, attempts, refusals, version) \
             VALUES (1, 18000, 1, 'monitoring', 1, 201903, 40, 40, 1)",
        )
        .execute(&mut c)
        .await
        .expect("forge");
    });
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("daily access counts disagree") && text(&o).1.contains("vigia audit recount"));
    let o = run(&dir, &["audit", "recount"]);
    assert!(text(&o).0.contains("Recounted"), "{:?}", text(&o));
    assert!(run(&dir, &["audit", "verify"]).status.success());
}
