//! Three `narrate serve` processes with their built-in tickers on one PostgreSQL database, plus an
//! external cron calling `/api/cron/tick` on any of them, every-minute schedules for more than
//! three minutes, and one server restarted (SIGTERM, then started again) midway: exactly one run
//! per (schedule, slot), no missed minute, and exactly one delivery per run in the receiving
//! sink's log. Runs only when `TEST_DATABASE_URL` is set (`.ci/run` sets it).

use crate::common;

use common::process::{self, Server};
use std::collections::BTreeMap;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const MINUTE: i64 = 60_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_and_an_external_cron_fire_every_slot_exactly_once() {
    let Some(db) = common::fresh_postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: the multi-process test needs PostgreSQL");
        return;
    };
    app::engine::outbound::install_crypto();
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(300)))
        .mount(&sink)
        .await;
    let dir = tempfile::tempdir().unwrap();
    process::setup_tenant(&db);
    let env =
        [("NARRATE_SCHEDULER", "internal"), ("NARRATE_MIN_INTERVAL_MINUTES", "1"), ("NARRATE_RUN_LEASE_SECS", "10")];
    let ports: Vec<u16> = (0..3).map(|_| process::free_port()).collect();
    let logs: Vec<_> = (0..3).map(|i| dir.path().join(format!("server-{i}.log"))).collect();
    let mut servers = Vec::new();
    for i in 0..3 {
        servers.push(Server::start(&db, ports[i], &env, &logs[i]).await);
    }
    let c = servers[0].admin().await;
    let dest = common::create_webhook(&c, &servers[0].base, "Sink", &format!("{}/hook", sink.uri())).await;
    let mut first_slot = 0;
    for i in 0..4 {
        let t = common::small_report(
            &c,
            &servers[0].base,
            &format!("Every minute {i}"),
            "* * * * *",
            std::slice::from_ref(&dest),
        )
        .await;
        let next = chrono::DateTime::parse_from_rfc3339(t["schedules"][0]["nextRunAt"].as_str().unwrap()).unwrap();
        first_slot = first_slot.max(next.timestamp_millis());
    }
    let last_slot = first_slot + 3 * MINUTE;
    // The external cron: a tick every 5 s on each server in turn.
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let cron = tokio::spawn(async move {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        for i in 0.. {
            let url = format!("{}/api/cron/tick", bases[i % bases.len()]);
            let _ = client.post(url).header("x-cron-token", process::CRON_TOKEN).send().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let wait_until = |t: i64| async move {
        let now = chrono::Utc::now().timestamp_millis();
        if t > now {
            tokio::time::sleep(Duration::from_millis((t - now) as u64)).await;
        }
    };
    // Midway, server 1 is restarted: SIGTERM, then started again ten seconds later.
    wait_until(first_slot + MINUTE + 20_000).await;
    servers[1].sigterm();
    assert!(
        servers[1].wait_exit(Duration::from_secs(40)).await.is_some(),
        "server 1 stops; log:\n{}",
        servers[1].log_tail()
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    servers[1] = Server::start(&db, ports[1], &env, &logs[1]).await;
    wait_until(last_slot + 25_000).await;
    cron.abort();
    for s in &servers {
        s.sigterm();
    }
    for s in servers.iter_mut() {
        assert!(s.wait_exit(Duration::from_secs(40)).await.is_some(), "a server did not stop; log:\n{}", s.log_tail());
    }

    let pool = process::pool(&db).await;
    let runs: Vec<_> =
        common::runs(&pool).await.into_iter().filter(|r| r.scheduled_for.is_some_and(|t| t <= last_slot)).collect();
    let mut slots: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &runs {
        slots.entry(r.schedule_id.clone().unwrap()).or_default().push(r.scheduled_for.unwrap());
    }
    assert_eq!(slots.len(), 4, "every schedule fired");
    let expected: Vec<i64> = (0..4).map(|k| first_slot + k * MINUTE).collect();
    for (schedule, mut fired) in slots {
        fired.sort();
        assert_eq!(fired, expected, "schedule {schedule}: one run per minute, none missed, none twice");
    }
    let unfinished: Vec<_> = runs.iter().filter(|r| r.status == "queued" || r.status == "running").collect();
    assert!(unfinished.is_empty(), "{unfinished:?}");
    let log = common::received(&sink).await;
    common::assert_no_duplicates(&log);
    for r in &runs {
        let got = log.iter().filter(|(_, run)| *run == r.id).count();
        match r.status.as_str() {
            "succeeded" => assert_eq!(got, 1, "run {} succeeded: delivered exactly once", r.id),
            _ => assert!(got <= 1, "run {} ({}) delivered at most once", r.id, r.status),
        }
    }
    let succeeded = runs.iter().filter(|r| r.status == "succeeded").count();
    assert_eq!(succeeded, 16, "a graceful restart loses no run: {runs:?}");
}
