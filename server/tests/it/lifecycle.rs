//! The run lifecycle under faults (issue 11), each judged by what the database and the receiving
//! sink saw: a claim that fails midway loses no slot; a tick whose caller hangs up still finishes
//! and delivers every run; a run whose task dies is finished at once; queued runs are never
//! declared abandoned while their server lives; lease renewal survives a failing renewal;
//! attempts are written as they happen; the built-in ticker survives a panic and reports
//! staleness; and the smaller findings (stale slot on re-enable, an edit undoing a claim, the
//! schedule cap under concurrency, batched pruning, SQLite BUSY, immutable deliveries and
//! artifacts).

use crate::common;

use app::engine::scheduler::{self, leases, retention, ticker};
use app::model::Role;
use common::{Backend, TestApp, NOW};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn sink(delay: Duration) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_delay(delay)).mount(&s).await;
    s
}

async fn get_json(c: &reqwest::Client, url: String) -> Value {
    c.get(url).send().await.unwrap().json().await.unwrap()
}

db_test!(a_claim_that_fails_midway_loses_no_slot_and_says_why, |app| {
    let t = app.tenant("acme").await;
    let c = app.client_as(&t, Role::Editor).await;
    let tpl = common::small_report(&c, &app.base, "Daily", "0 8 * * *", &[]).await;
    let sid = tpl["schedules"][0]["id"].as_str().unwrap().to_string();
    app.state.clock.advance(20 * HOUR); // 2026-12-01 08:00 UTC: the slot is due
    common::inject_fault(&app, "fail_run_insert", "report_runs", "INSERT").await;
    let first = app.tick().await;
    assert_eq!((first.due, first.claimed, first.errors), (1, 0, 1), "{first:?}");
    assert!(common::runs(&app.state.db.pool).await.is_empty());
    let c = app.client_as(&t, Role::Editor).await;
    let s = get_json(&c, app.url(&format!("/api/v1/reports/schedules/{sid}"))).await;
    assert_eq!(s["nextRunAt"], "2026-12-01T08:00:00Z", "the slot is still due: {s}");
    assert!(s["lastError"].as_str().unwrap().contains("try again at the next tick"), "{s}");
    common::clear_fault(&app, "fail_run_insert", "report_runs").await;
    let second = app.tick().await;
    assert_eq!((second.claimed, second.succeeded, second.errors), (1, 1, 0), "{second:?}");
    let runs = common::runs(&app.state.db.pool).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].scheduled_for, Some(NOW + 20 * HOUR), "the run is for the slot that failed");
    let s = get_json(&c, app.url(&format!("/api/v1/reports/schedules/{sid}"))).await;
    assert_eq!((s["lastError"].clone(), s["nextRunAt"].clone()), (Value::Null, json!("2026-12-02T08:00:00Z")));
});

db_test_real!(a_tick_whose_caller_hangs_up_still_finishes_and_delivers_every_run, &[("CRON_TOKEN", "tok")], |app| {
    let sink = sink(Duration::from_secs(2)).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Sink", &format!("{}/hook", sink.uri())).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let tpl =
            common::small_report(&admin, &app.base, &format!("R{i}"), "0 8 * * *", std::slice::from_ref(&dest)).await;
        ids.push(tpl["schedules"][0]["id"].as_str().unwrap().to_string());
    }
    common::make_due(&app.state.db.pool, &ids, app.state.clock.now_ms() - 1000).await;
    let impatient = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let r = impatient.post(app.url("/api/cron/tick?wait=30")).header("x-cron-token", "tok").send().await;
    assert!(r.is_err(), "the caller hung up after one second");
    let runs = common::wait_settled(&app.state.db.pool, 5, Duration::from_secs(60)).await;
    assert_eq!(runs.len(), 5);
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:?}");
    let log = common::received(&sink).await;
    assert_eq!(common::assert_no_duplicates(&log), 5, "every run delivered, once");
    let again = app.plain().post(app.url("/api/cron/tick")).header("x-cron-token", "tok").send().await.unwrap();
    assert_eq!(again.json::<Value>().await.unwrap()["due"], 0);
});

db_test_real!(a_run_whose_task_dies_is_finished_as_failed_at_once_and_no_longer_renewed, &[], |app| {
    let t = app.tenant("acme").await;
    let id = app::engine::new_id();
    let now = app.state.clock.now_ms();
    sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at, started_at, owner, lease_until) VALUES ($1, $2, 'tpl', 'run_now', 'test', 'running', 'rendering', $3, $3, $4, $5)")
        .bind(&id)
        .bind(&t.id)
        .bind(now)
        .bind(app.state.executor.leases().owner())
        .bind(now + 300_000)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let held = app.state.executor.leases().clone();
    let run = id.clone();
    let task = tokio::spawn(async move {
        let _guard = held.hold(&run, leases::Held::Run);
        panic!("a bug in the pipeline");
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(!app.state.executor.leases().holds(&id), "a dead task's run is no longer renewed");
    for _ in 0..50 {
        let r = &common::runs(&app.state.db.pool).await[0];
        if r.status == "failed" {
            assert!(r.error.as_deref().unwrap().contains("stopped unexpectedly"), "{r:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the run of a dead task stayed running");
});

db_test_real!(
    queued_runs_waiting_for_a_slot_are_never_declared_abandoned,
    &[("NARRATE_RUN_LEASE_SECS", "3"), ("NARRATE_MAX_CONCURRENT_RUNS", "1")],
    |app| {
        let sink = sink(Duration::from_millis(2000)).await;
        let t = app.tenant("acme").await;
        let admin = app.client_as(&t, Role::Admin).await;
        let dest = app.webhook(&admin, "Sink", &format!("{}/hook", sink.uri())).await;
        for i in 0..4 {
            let tpl =
                common::small_report(&admin, &app.base, &format!("Q{i}"), "0 8 * * 1", std::slice::from_ref(&dest))
                    .await;
            let id = tpl["id"].as_str().unwrap();
            let r = admin.post(app.url(&format!("/api/v1/reports/templates/{id}/run-now"))).send().await.unwrap();
            assert_eq!(r.status(), 202);
        }
        // Four runs, one at a time, 2 s each: the last waits ~6 s queued, twice the 3 s lease. A
        // replica sweeps for abandoned runs all the while.
        let replica = app.peer().await;
        let sweeps = tokio::spawn(async move {
            let mut abandoned = 0;
            for _ in 0..50 {
                abandoned += leases::sweep(&replica).await.unwrap().abandoned;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            abandoned
        });
        let runs = common::wait_settled(&app.state.db.pool, 4, Duration::from_secs(60)).await;
        assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:?}");
        assert_eq!(sweeps.await.unwrap(), 0, "no live run was abandoned");
        assert_eq!(common::assert_no_duplicates(&common::received(&sink).await), 4);
    }
);

db_test_real!(
    a_renewal_round_rewrites_only_leases_past_half_and_a_live_run_keeps_half_its_lease,
    &[("NARRATE_RUN_LEASE_SECS", "300")],
    |app| {
        // A 300 s lease renewed every 10 s: a lease with more than 160 s left is left as it is,
        // one with less is renewed to the full 300 s, so a burst's thousands of queued runs are
        // not all rewritten every round — and none ever gets near its end.
        let t = app.tenant("acme").await;
        let owner = app.state.executor.leases().owner().to_string();
        let now = app.state.clock.now_ms();
        let mut guards = Vec::new();
        let mut ids = Vec::new();
        for left_s in [290, 170, 150, 20] {
            let id = app::engine::new_id();
            sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, phase, queued_at, owner, lease_until) VALUES ($1, $2, $3, 'run_now', 'test', 'queued', 'queued', $4, $5, $6)")
                .bind(&id)
                .bind(&t.id)
                .bind(format!("tpl-{left_s}")) // one active Run Now per template
                .bind(now)
                .bind(&owner)
                .bind(now + left_s * 1000)
                .execute(&app.state.db.pool)
                .await
                .unwrap();
            guards.push(app.state.executor.leases().hold(&id, leases::Held::Run));
            ids.push(id);
        }
        // (The server's own renewal round may run at the same moment; either way the outcome is
        // the same, so the rows are judged, not the count.)
        let before = app.state.clock.now_ms();
        assert!(leases::renew(&app.state).await.unwrap() <= 2, "only the leases with 160 s or less left");
        let lease = |i: usize| app.lease_of(&ids[i]);
        assert_eq!(lease(0).await, Some(now + 290_000), "290 s left: untouched");
        assert_eq!(lease(1).await, Some(now + 170_000), "170 s left: untouched");
        for i in [2, 3] {
            let l = lease(i).await.unwrap();
            assert!(
                l >= before + 300_000 - 10_000 && l <= app.state.clock.now_ms() + 300_000,
                "renewed to a full lease: {l}"
            );
        }
        // A short lease (under four rounds) is still renewed every round.
        let short = app::engine::config::Config { run_lease_secs: 3, ..app.state.config.as_ref().clone() };
        assert!(short.lease_renew_within_ms() > 3_000, "every lease of a short-lease server is renewed each round");
        drop(guards);
    }
);

db_test_real!(lease_renewal_goes_on_after_a_renewal_fails, &[("NARRATE_RUN_LEASE_SECS", "2")], |app| {
    let sink = sink(Duration::from_secs(4)).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Sink", &format!("{}/hook", sink.uri())).await;
    let tpl = common::small_report(&admin, &app.base, "Slow", "0 8 * * 1", &[dest]).await;
    let r: Value = admin
        .post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = r["runId"].as_str().unwrap().to_string();
    while sink.received_requests().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    common::inject_fault(&app, "fail_renewal", "report_runs", "UPDATE OF lease_until").await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // two renewals fail
    let stale = app.lease_of(&run).await.unwrap();
    common::clear_fault(&app, "fail_renewal", "report_runs").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let renewed = app.lease_of(&run).await.unwrap();
    assert!(renewed > stale, "the lease is renewed again after the failures ({stale} → {renewed})");
    assert!(renewed > app.state.clock.now_ms(), "and it holds now");
    assert_eq!(leases::sweep(&app.peer().await).await.unwrap().abandoned, 0, "a replica sees a live run");
    let runs = common::wait_settled(&app.state.db.pool, 1, Duration::from_secs(30)).await;
    assert_eq!(runs[0].status, "succeeded", "{runs:?}");
    assert_eq!(common::received(&sink).await.len(), 1);
});

db_test_real!(each_attempt_is_recorded_as_it_ends_while_the_delivery_is_still_sending, &[], |app| {
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&sink)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .with_priority(2)
        .mount(&sink)
        .await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Flaky", &format!("{}/hook", sink.uri())).await;
    let tpl = common::small_report(&admin, &app.base, "Flaky", "0 8 * * 1", &[dest]).await;
    admin
        .post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    let mut seen_mid_flight = false;
    for _ in 0..100 {
        let r = sqlx::query(
            "SELECT d.status, (SELECT COUNT(*) FROM delivery_attempts a WHERE a.delivery_id = d.id) AS n FROM deliveries d",
        )
        .fetch_optional(&app.state.db.pool)
        .await
        .unwrap();
        if let Some(r) = r {
            let (status, n) = (app::engine::db::get_str(&r, "status"), app::engine::db::get_i64(&r, "n"));
            if status == "sending" && n == 1 {
                seen_mid_flight = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen_mid_flight, "the failed first attempt was on record while the second was in flight");
    let runs = common::wait_settled(&app.state.db.pool, 1, Duration::from_secs(30)).await;
    assert_eq!(runs[0].status, "succeeded");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_that_panics_is_logged_and_the_next_one_ticks_again() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let seen = calls.clone();
    let supervised = tokio::spawn(ticker::supervise(
        app.state.clone(),
        stopped,
        || Duration::from_millis(50),
        move |_state| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    panic!("a bug in the first tick");
                }
                Ok(scheduler::TickCounts::default())
            }
        },
    ));
    for _ in 0..100 {
        if calls.load(Ordering::SeqCst) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(calls.load(Ordering::SeqCst) >= 3, "ticks go on after a panic");
    assert_eq!(app.state.ticker.failures(), 1);
    assert!(app.state.ticker.last_tick() > 0);
    stop.send(true).unwrap();
    supervised.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_when_the_built_in_ticker_has_stopped_ticking() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_SCHEDULER", "internal")]).await.unwrap();
    let ok = app.plain().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let metrics = app.plain().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("narrate_scheduler_last_tick_timestamp_seconds"), "{metrics}");
    // The built-in ticker fires at the start of each real minute and would record a tick at the
    // advanced clock: stay clear of a minute boundary so the stale answer is not raced by a tick.
    let second = chrono::Utc::now().timestamp() % 60;
    if second >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    app.state.clock.advance(4 * 60_000); // four minutes without a tick
    let stale = app.plain().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(stale.status(), 503);
    assert!(stale.text().await.unwrap().contains("has not ticked for 240 s"));
    let external = TestApp::start(Backend::Sqlite).await.unwrap();
    external.state.clock.advance(4 * 60_000);
    assert_eq!(
        external.plain().get(external.url("/healthz")).send().await.unwrap().status(),
        200,
        "no built-in ticker, no alarm"
    );
}

db_test!(enabling_a_template_again_waits_for_its_next_slot_instead_of_firing_a_stale_one, |app| {
    let t = app.tenant("acme").await;
    let c = app.client_as(&t, Role::Editor).await;
    let tpl = common::small_report(&c, &app.base, "Daily", "0 8 * * *", &[]).await;
    let id = tpl["id"].as_str().unwrap();
    let off = c
        .patch(app.url(&format!("/api/v1/reports/templates/{id}")))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    app.state.clock.advance(3 * DAY + 2 * HOUR); // 2026-12-03 14:00 UTC: three slots passed while off
    let c = app.client_as(&t, Role::Editor).await;
    let on: Value = c
        .patch(app.url(&format!("/api/v1/reports/templates/{id}")))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on["schedules"][0]["nextRunAt"], "2026-12-04T08:00:00Z", "{on}");
    let counts = app.tick().await;
    assert_eq!((counts.due, counts.claimed), (0, 0), "nothing fires at 14:00");
    assert!(common::runs(&app.state.db.pool).await.is_empty());
});

db_test!(an_edit_that_races_a_claim_never_writes_back_the_claimed_slot, |app| {
    let t = app.tenant("acme").await;
    let c = app.client_as(&t, Role::Editor).await;
    let tpl = common::small_report(&c, &app.base, "Daily", "0 8 * * *", &[]).await;
    let sid = tpl["schedules"][0]["id"].as_str().unwrap().to_string();
    let claimed_to = NOW + 2 * DAY; // what a concurrent claim moves next_run_at to
    let mut claim = app.state.db.pool.begin().await.unwrap();
    sqlx::query("UPDATE report_schedules SET next_run_at = $1 WHERE id = $2")
        .bind(claimed_to)
        .bind(&sid)
        .execute(&mut *claim)
        .await
        .unwrap();
    let (state, tenant, s2) = (app.state.clone(), t.id.clone(), sid.clone());
    let edit = tokio::spawn(async move {
        let input = app::model::reports::ScheduleInput { name: Some("Renamed".into()), ..Default::default() };
        app::engine::schedules::update(&state, &tenant, "editor@acme.test", &s2, input).await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(400)).await; // the edit has read the old slot and waits
    claim.commit().await.unwrap();
    let edited = edit.await.unwrap();
    assert_eq!(edited.name, "Renamed");
    assert_eq!(edited.next_run_at.as_deref(), Some("2026-12-02T12:00:00Z"), "the claim's slot stands");
});

db_test!(the_schedule_cap_holds_under_concurrent_creates, |app| {
    let t = app.tenant("acme").await;
    let c = app.client_as(&t, Role::Editor).await;
    let tpl = common::small_report(&c, &app.base, "Base", "0 8 * * *", &[]).await;
    let tid = tpl["id"].as_str().unwrap().to_string();
    for i in 0..98 {
        sqlx::query("INSERT INTO report_schedules (id, tenant_id, template_id, name, cron, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, '0 8 * * *', 'UTC', $5, $5)")
            .bind(app::engine::new_id())
            .bind(&t.id)
            .bind(&tid)
            .bind(format!("s{i}"))
            .bind(NOW)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
    let mut creates = Vec::new();
    for i in 0..8 {
        let (c, url, tid) = (c.clone(), app.url("/api/v1/reports/schedules"), tid.clone());
        creates.push(tokio::spawn(async move {
            let body = json!({"templateId": tid, "name": format!("race {i}"), "cronExpression": "0 9 * * *", "timezone": "UTC"});
            c.post(url).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for h in creates {
        codes.push(h.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes, [201, 422, 422, 422, 422, 422, 422, 422], "exactly one create fits under the cap");
    let n: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_schedules").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(n, 100);
});

db_test!(retention_prunes_in_batches_and_keeps_the_record, |app| {
    let t = app.tenant("acme").await;
    let run = app::engine::new_id();
    let pool = &app.state.db.pool;
    sqlx::query("INSERT INTO report_runs (id, tenant_id, template_id, trigger, triggered_by, status, queued_at, lease_until) VALUES ($1, $2, 'tpl', 'run_now', 'test', 'running', $3, $4)")
        .bind(&run)
        .bind(&t.id)
        .bind(NOW)
        .bind(NOW + DAY)
        .execute(pool)
        .await
        .unwrap();
    let n = 2 * retention::PRUNE_BATCH + 7;
    for i in 0..n {
        sqlx::query("INSERT INTO report_artifacts (id, tenant_id, run_id, format, filename, media_type, size_bytes, sha256, bytes, created_at) VALUES ($1, $2, $3, $4, 'f', 'text/csv', 3, 'abc', $5, $6)")
            .bind(app::engine::new_id())
            .bind(&t.id)
            .bind(&run)
            .bind(format!("f{i}"))
            .bind(b"a,b".to_vec())
            .bind(NOW)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE report_runs SET status = 'succeeded', phase = 'finished', finished_at = $1 WHERE id = $2")
        .bind(NOW)
        .bind(&run)
        .execute(pool)
        .await
        .unwrap();
    app.state.clock.advance(91 * DAY);
    let batch =
        app::engine::store::artifacts::prune_batch(pool, NOW + DAY, app.state.clock.now_ms(), retention::PRUNE_BATCH)
            .await
            .unwrap();
    assert_eq!(batch, retention::PRUNE_BATCH as u64, "one statement prunes one batch");
    assert_eq!(retention::prune(&app.state, 90).await.unwrap(), (n - retention::PRUNE_BATCH) as u64);
    let left: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_artifacts WHERE bytes IS NOT NULL").fetch_one(pool).await.unwrap(),
        0,
    );
    let kept: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_artifacts WHERE sha256 = 'abc' AND size_bytes = 3")
            .fetch_one(pool)
            .await
            .unwrap(),
        0,
    );
    assert_eq!((left, kept), (0, n), "every byte pruned, every record kept");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_briefly_locked_sqlite_database_delays_a_claim_but_never_loses_it() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_SQLITE_BUSY_TIMEOUT_MS", "100")]).await.unwrap();
    let t = app.tenant("acme").await;
    let c = app.client_as(&t, Role::Editor).await;
    common::small_report(&c, &app.base, "Daily", "0 8 * * *", &[]).await;
    app.state.clock.advance(20 * HOUR);
    // Another writer holds SQLite's write lock for 1.2 s, far past the 100 ms busy timeout.
    let mut other = app.state.db.pool.begin().await.unwrap();
    sqlx::query("UPDATE tenants SET name = name").execute(&mut *other).await.unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        other.commit().await.unwrap();
    });
    let counts = app.tick().await;
    release.await.unwrap();
    assert_eq!((counts.due, counts.claimed, counts.errors, counts.succeeded), (1, 1, 0, 1), "{counts:?}");
    assert_eq!(common::runs(&app.state.db.pool).await.len(), 1);
}

db_test!(deliveries_and_artifacts_of_a_finished_run_cannot_be_changed_only_pruned, |app| {
    let sink = sink(Duration::ZERO).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Sink", &format!("{}/hook", sink.uri())).await;
    let tpl = common::small_report(&admin, &app.base, "Done", "0 8 * * 1", std::slice::from_ref(&dest)).await;
    admin
        .post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    let run = common::wait_settled(&app.state.db.pool, 1, Duration::from_secs(30)).await.remove(0);
    assert_eq!(run.status, "succeeded");
    let pool = &app.state.db.pool;
    let id = run.id.as_str();
    let refused = |sql: &'static str| async move { sqlx::query(sql).bind(id).execute(pool).await.is_err() };
    assert!(
        refused("UPDATE deliveries SET status = 'failed' WHERE run_id = $1").await,
        "a finished run's delivery is immutable"
    );
    assert!(refused("UPDATE report_artifacts SET sha256 = 'forged' WHERE run_id = $1").await, "its artifact too");
    assert!(
        refused("INSERT INTO deliveries (id, tenant_id, run_id, destination_id, kind, name, status, created_at, updated_at) VALUES ('d2', 't', $1, 'x', 'webhook', 'x', 'pending', 0, 0)").await,
        "and it takes no new delivery"
    );
    assert!(refused("UPDATE delivery_attempts SET result = 'delivered' WHERE delivery_id IN (SELECT id FROM deliveries WHERE run_id = $1)").await);
    let pruned = sqlx::query("UPDATE report_artifacts SET bytes = NULL, pruned_at = 1 WHERE run_id = $1")
        .bind(&run.id)
        .execute(pool)
        .await;
    assert!(pruned.is_ok(), "retention may drop the bytes: {pruned:?}");
    assert_eq!(common::received(&sink).await.len(), 1);
});

db_test_real!(
    a_burst_of_slow_deliveries_past_the_lease_delivers_every_run_once,
    &[("CRON_TOKEN", "tok"), ("NARRATE_RUN_LEASE_SECS", "30")],
    |app| {
        // 64 schedules due at once, 5 s per delivery, 8 runs at a time: the last runs wait about
        // 35 s queued, past the 30 s lease. The operator's cron hangs up after one second and
        // ticks every 20 s; a replica sweeps for abandoned runs every two seconds.
        let sink = sink(Duration::from_secs(5)).await;
        let t = app.tenant("acme").await;
        let admin = app.client_as(&t, Role::Admin).await;
        let dest = app.webhook(&admin, "Sink", &format!("{}/hook", sink.uri())).await;
        let mut ids = Vec::new();
        for i in 0..64 {
            let tpl =
                common::small_report(&admin, &app.base, &format!("B{i}"), "0 8 * * *", std::slice::from_ref(&dest))
                    .await;
            ids.push(tpl["schedules"][0]["id"].as_str().unwrap().to_string());
        }
        common::make_due(&app.state.db.pool, &ids, app.state.clock.now_ms() - 500).await;
        let url = app.url("/api/cron/tick");
        let cron = tokio::spawn(async move {
            let impatient = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
            loop {
                let _ = impatient.post(&url).header("x-cron-token", "tok").send().await;
                tokio::time::sleep(Duration::from_secs(20)).await;
            }
        });
        let replica = app.peer().await;
        let abandoned = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = abandoned.clone();
        let sweeps = tokio::spawn(async move {
            loop {
                counted.fetch_add(leases::sweep(&replica).await.unwrap().abandoned, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        let runs = common::wait_settled(&app.state.db.pool, 64, Duration::from_secs(150)).await;
        sweeps.abort();
        assert_eq!(abandoned.load(Ordering::SeqCst), 0, "the replica never saw a live run as abandoned");
        cron.abort();
        assert_eq!(runs.len(), 64, "one run per slot");
        let mut slots: Vec<_> = runs.iter().map(|r| (r.schedule_id.clone(), r.scheduled_for)).collect();
        slots.sort();
        slots.dedup();
        assert_eq!(slots.len(), 64);
        let failed: Vec<_> = runs.iter().filter(|r| r.status != "succeeded").collect();
        assert!(failed.is_empty(), "no run reported failed: {failed:?}");
        let log = common::received(&sink).await;
        assert_eq!(common::assert_no_duplicates(&log), 64, "every report reached the destination, once");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_protected_by_a_token_and_count_finished_runs_without_scanning() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_METRICS_TOKEN", "metrics-secret")]).await.unwrap();
    let get = |auth: Option<&str>| {
        let mut r = app.plain().get(app.url("/metrics"));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("Bearer wrong")).await.unwrap().status(), 401);
    let t = app.tenant("acme").await;
    let c = app.client_as(&t, Role::Editor).await;
    let tpl = common::small_report(&c, &app.base, "Counted", "0 8 * * 1", &[]).await;
    c.post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    common::wait_settled(&app.state.db.pool, 1, Duration::from_secs(30)).await;
    let ok = get(Some("Bearer metrics-secret")).await.unwrap();
    assert_eq!(ok.status(), 200);
    let text = ok.text().await.unwrap();
    assert!(text.contains("narrate_runs_finished_total{status=\"succeeded\"}"), "{text}");
    assert!(text.contains("narrate_runs_executing 0"), "{text}");
}
