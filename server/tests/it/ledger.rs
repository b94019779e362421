//! The delivery ledger: one row per (run, destination), concurrent and independent deliveries,
//! every attempt recorded, skipped destinations reported, and never a second send.

use crate::common;

use app::engine::delivery::DeliveryInput;
use app::engine::destinations;
use app::engine::scheduler::{history, ledger};
use app::model::runs::{DeliveryStatus, RunStatus};
use app::model::Role;
use common::{Backend, TestApp, NOW};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A running run owned by the test server's process (deliveries are fenced on it).
async fn run_row(app: &TestApp, tenant: &str) -> String {
    let id = app::engine::new_id();
    sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at, owner, lease_until) VALUES ($1, $2, 'tpl', 'run_now', 'test', 'running', 'delivering', $3, $4, $5)")
        .bind(&id)
        .bind(tenant)
        .bind(NOW)
        .bind(app.state.executor.leases().owner())
        .bind(NOW + 600_000)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    id
}

fn input(run_id: &str, tenant: &str) -> DeliveryInput {
    DeliveryInput {
        delivery_id: String::new(),
        run_id: run_id.into(),
        tenant_id: tenant.into(),
        template_id: "tpl".into(),
        template_name: "Weekly revenue".into(),
        schedule_id: None,
        status: RunStatus::Succeeded,
        period: "last 7 days".into(),
        generated_at: "2026-11-30T12:00:00Z".into(),
        narrative: None,
        sections: vec![],
        kpis: vec![],
        charts: vec![],
        headline_chart: None,
        artifacts: vec![],
        run_url: "http://127.0.0.1/runs/x".into(),
        is_test: false,
    }
}

#[tokio::test]
async fn one_failing_destination_leaves_the_others_delivered_and_every_attempt_is_recorded() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/ok")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("POST")).and(path("/down")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1")]).await.unwrap();
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let mut ids = Vec::new();
    for (name, p) in [("Ok hook", "/ok"), ("Down hook", "/down"), ("Paused hook", "/ok"), ("Deleted hook", "/ok")] {
        ids.push(app.webhook(&admin, name, &format!("{}{p}", server.uri())).await);
    }
    admin
        .patch(app.url(&format!("/api/v1/notifications/destinations/{}", ids[2])))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    admin.delete(app.url(&format!("/api/v1/notifications/destinations/{}", ids[3]))).send().await.unwrap();
    ids.push("no-such-destination".into());
    let run = run_row(&app, &t.id).await;
    let targets = ledger::resolve(&app.state, &t.id, &ids).await.unwrap();
    let owner = app.state.executor.leases().owner().to_string();
    ledger::deliver_run(&app.state, &run, &owner, &input(&run, &t.id), targets, None).await.unwrap();
    let rows = history::get(&app.state, &t.id, &run).await.unwrap().deliveries;
    let by = |name: &str| rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("{name}")).clone();
    assert_eq!(by("Ok hook").status, DeliveryStatus::Delivered);
    assert_eq!(by("Ok hook").attempts, 1);
    let down = by("Down hook");
    assert_eq!(down.status, DeliveryStatus::Failed);
    assert_eq!(down.attempts, destinations::settings(&app.state).max_attempts as i64, "503 is retried to the bound");
    assert!(down.error.unwrap().contains("503"));
    assert_eq!(
        (by("Paused hook").status, by("Paused hook").error.unwrap().as_str()),
        (DeliveryStatus::Skipped, "the destination is paused")
    );
    assert_eq!(by("Deleted hook").status, DeliveryStatus::Skipped);
    assert_eq!(by("unknown").error.unwrap(), "the destination no longer exists");
    let attempts: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM delivery_attempts").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(attempts, 1 + destinations::settings(&app.state).max_attempts as i64);
    let received = server.received_requests().await.unwrap();
    let ids_seen: std::collections::HashSet<String> = received
        .iter()
        .filter(|r| r.url.path() == "/down")
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(ids_seen.len(), 1, "the delivery id is stable across retries");
}

#[tokio::test]
async fn delivering_a_run_twice_never_sends_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1")]).await.unwrap();
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let ids = vec![app.webhook(&admin, "Hook", &format!("{}/h", server.uri())).await];
    let run = run_row(&app, &t.id).await;
    let owner = app.state.executor.leases().owner().to_string();
    let once = || async {
        let targets = ledger::resolve(&app.state, &t.id, &ids).await.unwrap();
        ledger::deliver_run(&app.state, &run, &owner, &input(&run, &t.id), targets, None).await.unwrap()
    };
    tokio::join!(once(), once());
    assert_eq!(history::get(&app.state, &t.id, &run).await.unwrap().deliveries.len(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "exactly one send per (run, destination)");
}
