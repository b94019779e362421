//! A server killed with SIGKILL in the middle of a run's delivery: after a restart the run is
//! finished as failed ("abandoned") once its lease lapses, the delivery that was in flight is
//! `unknown` (never retried automatically, never shown as pending or delivered), no destination
//! receives the same delivery twice, and a person can re-send the unknown one.

use crate::common;

use common::process::{self, Server};
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_is_finished_as_abandoned_its_send_in_flight_is_unknown_and_nothing_is_sent_twice() {
    app::engine::outbound::install_crypto();
    let fast = MockServer::start().await;
    Mock::given(method("POST")).and(path("/fast")).respond_with(ResponseTemplate::new(200)).mount(&fast).await;
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&slow)
        .await;
    Mock::given(method("POST"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&slow)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/crash.db", dir.path().display());
    let log = dir.path().join("server.log");
    let port = process::free_port();
    let lease = [("NARRATE_RUN_LEASE_SECS", "2")];
    process::setup_tenant(&db);

    let mut server = Server::start(&db, port, &lease, &log).await;
    let c = server.admin().await;
    let mut ids = Vec::new();
    for (name, url) in [("fast", format!("{}/fast", fast.uri())), ("slow", format!("{}/slow", slow.uri()))] {
        ids.push(common::create_webhook(&c, &server.base, name, &url).await);
    }
    let t = common::small_report(&c, &server.base, "Crash", "0 8 * * 1", &ids).await;
    let run_id = server.run_now(&c, t["id"].as_str().unwrap()).await;
    // Wait until the fast destination has its delivery — received by it and recorded by the server
    // (the request reaching the sink comes a moment before the server writes `delivered`) — and
    // the slow one is in flight, then kill.
    let fast_recorded = || async {
        let v: Value = c
            .get(format!("{}/api/v1/reports/runs/{run_id}", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        v["deliveries"].as_array().into_iter().flatten().any(|d| d["name"] == "fast" && d["status"] == "delivered")
    };
    for _ in 0..200 {
        if !fast.received_requests().await.unwrap().is_empty()
            && !slow.received_requests().await.unwrap().is_empty()
            && fast_recorded().await
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fast.received_requests().await.unwrap().len(), 1);
    server.kill(); // SIGKILL

    let server = Server::start(&db, port, &lease, &log).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // the dead run's lease lapses
    let tick = reqwest::Client::new()
        .post(format!("{}/api/cron/tick", server.base))
        .header("x-cron-token", process::CRON_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(tick.status(), 200);
    let c = server.admin().await;
    let v: Value =
        c.get(format!("{}/api/v1/reports/runs/{run_id}", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().starts_with("abandoned"), "{v}");
    let row = |name: &str| v["deliveries"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap().clone();
    assert_eq!(row("fast")["status"], "delivered", "the fast delivery was recorded before the crash");
    assert_eq!(row("slow")["status"], "unknown", "the send in flight has an unknown outcome: {v}");
    assert!(row("slow")["error"].as_str().unwrap().contains("outcome unknown"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fast.received_requests().await.unwrap().len(), 1, "never sent again after the restart");
    assert_eq!(slow.received_requests().await.unwrap().len(), 1, "the unknown one is not retried automatically");

    // A person re-sends the unknown delivery: one new attempt, with the same delivery id.
    let slow_id = row("slow")["id"].as_str().unwrap().to_string();
    let r = c
        .post(format!("{}/api/v1/reports/runs/{run_id}/deliveries/{slow_id}/resend", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let mut after = json!(null);
    for _ in 0..100 {
        after =
            c.get(format!("{}/api/v1/reports/runs/{run_id}", server.base)).send().await.unwrap().json().await.unwrap();
        if after["deliveries"].as_array().unwrap().iter().any(|d| d["name"] == "slow" && d["status"] == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let slow_row = after["deliveries"].as_array().unwrap().iter().find(|d| d["name"] == "slow").unwrap().clone();
    assert_eq!(
        (slow_row["status"].as_str(), slow_row["runStatus"].as_str()),
        (Some("delivered"), Some("unknown")),
        "{after}"
    );
    assert_eq!(after["status"], "failed", "the run record itself is unchanged");
    let seen = slow.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].headers["webhook-id"], seen[1].headers["webhook-id"],
        "a receiver can drop the copy it already has"
    );
    drop(server);
}
