//! Upgrading a database written by the previous version (migrations 1–5) to the run lifecycle
//! (0006), on SQLite and PostgreSQL: Run Now runs left in flight twice for one template (the old
//! code allowed it) are reduced to the newest, so the new "one Run Now at a time" index can be
//! built; and `pending` deliveries left inside finished runs — the old code's lost outcomes —
//! become `unknown`. The same database then goes through 0008 (SQLite rebuilds `report_runs` to
//! allow `skipped`): every run, delivery and index survives, and finished runs stay immutable.

use crate::common;

use app::engine::db::{get_opt_str, get_str};
use std::borrow::Cow;

async fn upgrade(url: &str, dialect_dir: &str) {
    sqlx::any::install_default_drivers();
    let mut old = match dialect_dir {
        "sqlite" => sqlx::migrate!("../migrations/sqlite"),
        _ => sqlx::migrate!("../migrations/postgres"),
    };
    old.migrations = Cow::Owned(old.migrations.iter().filter(|m| m.version < 6).cloned().collect());
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    old.run(&pool).await.unwrap();
    let exec = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    exec("INSERT INTO tenants (id, slug, name, created_at) VALUES ('t1', 'acme', 'Acme', 0)").await;
    for (id, at, status) in [("older", 1, "running"), ("newer", 2, "queued")] {
        sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at) VALUES ($1, 't1', 'tpl', 'run_now', 'ana', $2, 'queued', $3)")
            .bind(id)
            .bind(status)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
    }
    exec("INSERT INTO deliveries (id, tenant_id, run_id, destination_id, kind, name, status, created_at, updated_at) VALUES ('d-older', 't1', 'older', 'dest', 'webhook', 'Hook', 'pending', 1, 1)").await;
    exec("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at) VALUES ('done', 't1', 'tpl2', 'schedule', 'scheduler', 'running', 'delivering', 0)").await;
    exec("INSERT INTO deliveries (id, tenant_id, run_id, destination_id, kind, name, status, created_at, updated_at) VALUES ('d-done', 't1', 'done', 'dest', 'webhook', 'Hook', 'pending', 1, 1)").await;
    exec("UPDATE report_runs SET status = 'succeeded', phase = 'finished' WHERE id = 'done'").await;
    pool.close().await;

    let db = app::engine::Db::connect(url).await.expect("0006 applies to a database with the old code's leftovers");
    let run = |id: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query("SELECT status, error FROM report_runs WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap()
        }
    };
    let older = run("older").await;
    assert_eq!(get_str(&older, "status"), "failed");
    assert!(get_opt_str(&older, "error").unwrap().contains("superseded"));
    assert_eq!(get_str(&run("newer").await, "status"), "queued", "the newest stays, to be adopted");
    let delivery = |id: &'static str| {
        let pool = db.pool.clone();
        async move {
            let r = sqlx::query("SELECT status FROM deliveries WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
            get_str(&r, "status")
        }
    };
    assert_eq!(delivery("d-done").await, "unknown", "a pending delivery inside a finished run has an unknown outcome");
    assert_eq!(delivery("d-older").await, "failed", "the superseded run's delivery never started");
    let twice = sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at) VALUES ('third', 't1', 'tpl', 'run_now', 'ana', 'queued', 'queued', 3)")
        .execute(&db.pool)
        .await;
    assert!(twice.is_err(), "a second Run Now of the template in flight is refused by the database");
    let runs: i64 =
        sqlx::Row::get(&sqlx::query("SELECT COUNT(*) FROM report_runs").fetch_one(&db.pool).await.unwrap(), 0);
    assert_eq!(runs, 3, "every run survives the rebuild");
    let tamper = sqlx::query("UPDATE report_runs SET error = 'x' WHERE id = 'done'").execute(&db.pool).await;
    assert!(tamper.is_err(), "a finished run stays immutable after 0008");
    let skipped = sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at) VALUES ('quiet', 't1', 'tpl3', 'schedule', 'scheduler', 'skipped', 'finished', 4)")
        .execute(&db.pool)
        .await;
    assert!(skipped.is_ok(), "0008 allows a skipped run: {skipped:?}");
    let bogus = sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at) VALUES ('bogus', 't1', 'tpl4', 'schedule', 'scheduler', 'done', 'finished', 5)")
        .execute(&db.pool)
        .await;
    assert!(bogus.is_err(), "and still refuses a status that does not exist");
    let columns = sqlx::query("SELECT page, send_when FROM report_templates").fetch_all(&db.pool).await;
    assert!(columns.is_ok(), "templates gain a page setup and a send condition: {:?}", columns.err());
    if db.dialect == app::engine::db::Dialect::Sqlite {
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&db.pool).await.unwrap();
        assert!(broken.is_empty(), "no delivery or artifact lost its run");
    }
}

#[tokio::test]
async fn an_sqlite_database_of_the_previous_version_upgrades_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    upgrade(&format!("sqlite://{}/old.db?mode=rwc", dir.path().display()), "sqlite").await;
}

#[tokio::test]
async fn a_postgres_database_of_the_previous_version_upgrades_cleanly() {
    match common::fresh_postgres().await {
        Some(url) => upgrade(&url, "postgres").await,
        None => eprintln!("TEST_DATABASE_URL is not set: PostgreSQL variant not run"),
    }
}
