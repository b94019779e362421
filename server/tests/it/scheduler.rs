//! The scheduler with a controllable clock (no test sleeps for a schedule): due selection,
//! re-anchoring after an outage, DST, disabled and parked schedules, the tick endpoint's token,
//! and exactly one run and one delivery per slot under concurrent ticks on both databases.

use crate::common;

use app::engine::scheduler::{self, leases};
use app::model::Role;
use common::{Backend, TestApp, NOW};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const DAY: i64 = 86_400_000;

async fn setup(app: &TestApp) -> (common::Tenant, reqwest::Client) {
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 3, 0.02, NOW).await.unwrap();
    let c = app.client_as(&t, Role::Editor).await;
    (t, c)
}

async fn template(app: &TestApp, c: &reqwest::Client, cron: &str, tz: &str, destinations: Vec<String>) -> Value {
    let body = json!({
        "name": format!("Report {cron}"), "dashboard": "business", "period": "7d", "formats": ["csv"],
        "narrative": {"enabled": false},
        "schedule": {"cronExpression": cron, "timezone": tz, "destinations": destinations},
    });
    let r = c.post(app.url("/api/v1/reports/templates")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn runs_of(app: &TestApp) -> Vec<(String, i64, String)> {
    let rows = sqlx::query("SELECT schedule_id, scheduled_for, status FROM report_runs ORDER BY scheduled_for")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    rows.iter().map(|r| (sqlx::Row::get(r, 0), sqlx::Row::get(r, 1), sqlx::Row::get(r, 2))).collect()
}

db_test!(nothing_fires_before_its_slot_and_a_due_schedule_fires_once, |app| {
    let (_, c) = setup(&app).await;
    let t = template(&app, &c, "0 8 * * *", "UTC", vec![]).await;
    assert_eq!(t["schedules"][0]["nextRunAt"], "2026-12-01T08:00:00Z");
    let early = app.tick().await;
    assert_eq!((early.due, early.claimed), (0, 0));
    app.state.clock.advance(20 * 3_600_000); // 2026-12-01 08:00 UTC
    let c1 = app.tick().await;
    assert_eq!((c1.due, c1.claimed, c1.succeeded), (1, 1, 1));
    let c2 = app.tick().await;
    assert_eq!(c2.due, 0, "the same slot never fires twice");
    let runs = runs_of(&app).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1, NOW + 20 * 3_600_000, "scheduled_for is the slot");
});

db_test!(after_a_three_day_outage_a_schedule_fires_once_and_waits_for_its_next_slot, |app| {
    let (tenant, c) = setup(&app).await;
    let t = template(&app, &c, "0 8 * * *", "UTC", vec![]).await;
    app.state.clock.advance(3 * DAY + 2 * 3_600_000); // 2026-12-03 14:00 UTC: three slots missed
    let counts = app.tick().await;
    assert_eq!((counts.due, counts.claimed), (1, 1));
    assert_eq!(runs_of(&app).await.len(), 1, "one run, not a burst");
    let c = app.client_as(&tenant, Role::Editor).await;
    let s: Value = c
        .get(app.url(&format!("/api/v1/reports/schedules/{}", t["schedules"][0]["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["nextRunAt"], "2026-12-04T08:00:00Z", "re-anchored to the next future slot");
    assert_eq!(s["lastStatus"], "succeeded");
});

db_test!(a_local_time_skipped_by_dst_fires_at_the_first_valid_instant, |app| {
    let (_, c) = setup(&app).await;
    // Move to 2027-03-27 12:00 UTC, the day before Paris springs forward (and sign in again).
    let _ = c;
    app.state.clock.advance(117 * DAY);
    let tenant = app::engine::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap();
    let t0 = common::Tenant {
        id: tenant.id,
        slug: "acme".into(),
        emails: [(Role::Editor, "editor@acme.test".to_string())].into_iter().collect(),
    };
    let c = app.client_as(&t0, Role::Editor).await;
    let t = template(&app, &c, "30 2 * * *", "Europe/Paris", vec![]).await;
    assert_eq!(t["schedules"][0]["nextRunAt"], "2027-03-28T01:00:00Z", "02:30 does not exist; 03:00 CEST is 01:00 UTC");
    app.state.clock.advance(13 * 3_600_000);
    let counts = app.tick().await;
    assert_eq!(counts.claimed, 1);
});

db_test!(disabled_templates_and_schedules_never_fire, |app| {
    let (_, c) = setup(&app).await;
    let a = template(&app, &c, "0 8 * * *", "UTC", vec![]).await;
    let b = template(&app, &c, "0 9 * * *", "UTC", vec![]).await;
    c.patch(app.url(&format!("/api/v1/reports/templates/{}", a["id"].as_str().unwrap())))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    let r = c
        .patch(app.url(&format!("/api/v1/reports/schedules/{}", b["schedules"][0]["id"].as_str().unwrap())))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["nextRunAt"], Value::Null, "a disabled schedule has no next run");
    app.state.clock.advance(2 * DAY);
    let counts = app.tick().await;
    assert_eq!((counts.due, counts.claimed), (0, 0));
    assert!(runs_of(&app).await.is_empty());
});

db_test!(an_invalid_cron_is_parked_with_a_visible_reason, |app| {
    let (tenant, c) = setup(&app).await;
    let t = template(&app, &c, "0 8 * * *", "UTC", vec![]).await;
    let sid = t["schedules"][0]["id"].as_str().unwrap();
    sqlx::query("UPDATE report_schedules SET cron = '0 8 31 2 *' WHERE id = $1")
        .bind(sid)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    app.state.clock.advance(DAY);
    let counts = app.tick().await;
    assert_eq!((counts.due, counts.claimed, counts.skipped), (1, 0, 1));
    let c = app.client_as(&tenant, Role::Editor).await;
    let s: Value =
        c.get(app.url(&format!("/api/v1/reports/schedules/{sid}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(s["nextRunAt"], Value::Null);
    assert_eq!(s["parkedReason"], "the cron expression never fires again");
});

db_test!(concurrent_ticks_make_exactly_one_run_and_one_delivery_per_slot, |app| {
    let sink = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&sink).await;
    let (t, c) = setup(&app).await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Sink", &format!("{}/sink", sink.uri())).await;
    for h in 0..5 {
        template(&app, &c, &format!("{} 8 * * *", h * 10), "UTC", vec![dest.clone()]).await;
    }
    app.state.clock.advance(DAY);
    let mut ticks = Vec::new();
    for _ in 0..8 {
        let state = app.state.clone();
        ticks.push(tokio::spawn(async move {
            scheduler::tick(&state).await.unwrap().wait(std::time::Duration::from_secs(60)).await
        }));
    }
    let mut claimed = 0;
    for t in ticks {
        claimed += t.await.unwrap().claimed;
    }
    assert_eq!(claimed, 5, "each of the five slots claimed once across eight ticks");
    let runs = runs_of(&app).await;
    assert_eq!(runs.len(), 5);
    let mut slots: Vec<_> = runs.iter().map(|r| (r.0.clone(), r.1)).collect();
    slots.dedup();
    assert_eq!(slots.len(), 5);
    let received = sink.received_requests().await.unwrap();
    let mut ids: Vec<String> = received
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["runId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 5, "exactly one delivery per run");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
});

db_test!(a_burst_bigger_than_a_claim_page_is_claimed_whole_and_once_across_three_processes, |app| {
    // 150 schedules due in the same minute (two tenants; a tenant holds at most 100): more than
    // one claim page, so the tick must page through all of them. Empty tenants: small runs.
    for (i, slug) in ["acme", "beta"].into_iter().enumerate() {
        let t = app.tenant(slug).await;
        for n in 0..[100, 50][i] {
            let input = app::model::reports::TemplateInput {
                name: Some(format!("Report {n}")),
                dashboard: Some("business".into()),
                formats: Some(vec!["csv".into()]),
                narrative: Some(app::model::reports::NarrativeSettings { enabled: false, prompt: None }),
                schedule: Some(app::model::reports::ScheduleInput {
                    cron_expression: Some("0 8 * * *".into()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            app::engine::templates::create(&app.state, &t.id, "ana", input).await.unwrap();
        }
    }
    app.state.clock.advance(DAY);
    let one = app.tick().await;
    assert_eq!((one.due, one.claimed, one.errors), (150, 150, 0), "one process claims every page: {one:?}");
    common::wait_settled(&app.state.db.pool, 150, std::time::Duration::from_secs(240)).await;

    // The next day's slot: three processes tick at once.
    app.state.clock.advance(DAY);
    let (p1, p2) = (app.peer().await, app.peer().await);
    let mut ticks = Vec::new();
    for state in [app.state.clone(), p1, p2] {
        ticks.push(tokio::spawn(async move {
            scheduler::tick(&state).await.unwrap().wait(std::time::Duration::from_secs(240)).await
        }));
    }
    let mut counts = Vec::new();
    for t in ticks {
        counts.push(t.await.unwrap());
    }
    let claimed: u64 = counts.iter().map(|c| c.claimed).sum();
    let succeeded: u64 = counts.iter().map(|c| c.succeeded).sum();
    assert_eq!((claimed, succeeded), (150, 150), "every slot claimed once, and run by its claimer: {counts:?}");
    assert!(counts.iter().all(|c| c.errors == 0 && c.failed == 0 && c.running == 0), "{counts:?}");
    let runs = common::runs(&app.state.db.pool).await;
    assert_eq!(runs.len(), 300);
    let slots: std::collections::BTreeSet<_> = runs.iter().map(|r| (r.schedule_id.clone(), r.scheduled_for)).collect();
    assert_eq!(slots.len(), 300, "one run per schedule and slot");
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{:?}", runs.iter().find(|r| r.status != "succeeded"));
});

#[tokio::test]
async fn the_tick_endpoint_checks_its_token_and_fails_closed_without_one() {
    let app = TestApp::start_with(Backend::Sqlite, &[("CRON_TOKEN", "tick-secret")]).await.unwrap();
    let c = app.plain();
    assert_eq!(c.post(app.url("/api/cron/tick")).send().await.unwrap().status(), 401);
    assert_eq!(c.post(app.url("/api/cron/tick")).header("x-cron-token", "wrong").send().await.unwrap().status(), 401);
    let ok = c.post(app.url("/api/cron/tick")).header("x-cron-token", "tick-secret").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let v: Value = ok.json().await.unwrap();
    for k in ["due", "claimed", "succeeded", "partial", "failed", "skipped", "durationMs"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    let closed = TestApp::start(Backend::Sqlite).await.unwrap();
    let r = closed.plain().post(closed.url("/api/cron/tick")).header("x-cron-token", "anything").send().await.unwrap();
    assert_eq!(r.status(), 503);
}

db_test!(a_run_abandoned_by_a_dead_process_is_finished_as_failed, |app| {
    let (t, _) = setup(&app).await;
    let id = app::engine::new_id();
    sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at, started_at, lease_until) VALUES ($1, $2, 'tpl', 'schedule', 'scheduler', 'running', 'delivering', $3, $3, $4)")
        .bind(&id)
        .bind(&t.id)
        .bind(NOW)
        .bind(NOW + 60_000)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    leases::sweep(&app.state).await.unwrap();
    let r = &common::runs(&app.state.db.pool).await[0];
    assert_eq!(r.status, "running", "the lease still holds");
    app.state.clock.advance(10 * 60_000);
    leases::sweep(&app.state).await.unwrap();
    let r = &common::runs(&app.state.db.pool).await[0];
    assert_eq!(r.status, "failed");
    assert!(r.error.as_deref().unwrap().starts_with("abandoned"), "{r:?}");
});
