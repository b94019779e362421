//! A server killed with SIGKILL in the middle of a run's delivery: after a restart the run is
//! finished as failed ("abandoned") once its lease expires, and no destination receives the same
//! delivery twice.

use crate::common;

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn narrate(db: &str, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_narrate"));
    c.env("DATABASE_URL", db)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("NARRATE_SCHEDULER", "external")
        .env("CRON_TOKEN", "crash-token")
        .env("NARRATE_SECRET_KEY", KEY)
        .env("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1")
        .env("NARRATE_RUN_LEASE_SECS", "2")
        .env_remove("NARRATE_DEMO");
    c
}

async fn start(db: &str, port: u16) -> Child {
    let mut child = narrate(db, port).arg("serve").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let url = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..200 {
        if reqwest::get(&url).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_is_finished_as_abandoned_and_never_delivered_twice() {
    app::engine::outbound::install_crypto();
    let fast = MockServer::start().await;
    Mock::given(method("POST")).and(path("/fast")).respond_with(ResponseTemplate::new(200)).mount(&fast).await;
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&slow)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/crash.db", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert!(narrate(&db, port).args(["tenant", "add", "--slug", "acme", "--name", "Acme"]).status().unwrap().success());
    let mut add = narrate(&db, port)
        .args(["user", "add", "--tenant", "acme", "--email", "admin@acme.test", "--role", "admin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(add.stdin.as_mut().unwrap(), b"crash-test-password\n").unwrap();
    drop(add.stdin.take());
    assert!(add.wait().unwrap().success());

    let mut server = start(&db, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("origin", base.parse().unwrap());
    h.insert("x-requested-with", "crash-test".parse().unwrap());
    let c = reqwest::Client::builder().cookie_store(true).default_headers(h).build().unwrap();
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "admin@acme.test", "password": "crash-test-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut ids = Vec::new();
    for (name, url) in [("fast", format!("{}/fast", fast.uri())), ("slow", format!("{}/slow", slow.uri()))] {
        ids.push(common::create_webhook(&c, &base, name, &url).await);
    }
    let t: Value = c
        .post(format!("{base}/api/v1/reports/templates"))
        .json(&json!({"name": "Crash", "dashboard": "business", "formats": ["csv"], "narrative": {"enabled": false},
            "schedule": {"cronExpression": "0 8 * * 1", "timezone": "UTC", "destinations": ids}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run: Value = c
        .post(format!("{base}/api/v1/reports/templates/{}/run-now", t["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["runId"].as_str().unwrap().to_string();
    // Wait until the fast destination has its delivery and the slow one is in flight, then kill.
    for _ in 0..200 {
        if !fast.received_requests().await.unwrap().is_empty() && !slow.received_requests().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fast.received_requests().await.unwrap().len(), 1);
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    let mut server = start(&db, port).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // the dead run's lease expires
    let tick_url = format!("{base}/api/cron/tick");
    let tick = |c: reqwest::Client| {
        let url = tick_url.clone();
        async move {
            let r = c.post(url).header("x-cron-token", "crash-token").send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    tick(c.clone()).await;
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "admin@acme.test", "password": "crash-test-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = c.get(format!("{base}/api/v1/reports/runs/{run_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().starts_with("abandoned"), "{v}");
    let fast_row = v["deliveries"].as_array().unwrap().iter().find(|d| d["name"] == "fast").unwrap().clone();
    assert_eq!(fast_row["status"], "delivered", "the fast delivery was recorded before the crash");
    tick(c.clone()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fast.received_requests().await.unwrap().len(), 1, "never sent again after the restart");
    assert_eq!(slow.received_requests().await.unwrap().len(), 1, "the in-flight one is not retried either");
    server.kill().unwrap();
    server.wait().unwrap();
}
