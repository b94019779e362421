//! SIGTERM with runs in flight, judged by the receiving sink and the database after a restart:
//! the server stops claiming at once, lets in-flight runs finish within
//! `NARRATE_SHUTDOWN_GRACE_SECS`, hands runs that never started to the next server, exits within
//! the grace period plus 5 s, and leaves no run queued or running, nothing delivered twice, and no
//! run that says succeeded without its delivery. When the grace period is too short, what remains
//! is recorded: runs failed ("interrupted by shutdown"), their sends in flight `unknown`.

use crate::common;

use common::process::{self, Server};
use serde_json::Value;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set.
async fn databases(dir: &std::path::Path) -> Vec<String> {
    let mut dbs = vec![format!("sqlite://{}/shutdown.db", dir.display())];
    dbs.extend(common::fresh_postgres().await);
    dbs
}

async fn sink(delay: Duration) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_delay(delay)).mount(&s).await;
    s
}

/// Creates `n` reports delivering to one webhook at `sink`; their template ids.
async fn reports(server: &Server, c: &reqwest::Client, sink: &MockServer, n: usize) -> Vec<String> {
    let dest = common::create_webhook(c, &server.base, "Sink", &format!("{}/hook", sink.uri())).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let t = common::small_report(c, &server.base, &format!("Report {i}"), "0 8 * * 1", std::slice::from_ref(&dest))
            .await;
        ids.push(t["id"].as_str().unwrap().to_string());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_runs_in_flight_finish_and_hands_queued_ones_to_the_next_server() {
    app::engine::outbound::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let sink = sink(Duration::from_secs(3)).await;
        let log = dir.path().join(format!("grace-{}.log", db.len()));
        let port = process::free_port();
        let env = [("NARRATE_SHUTDOWN_GRACE_SECS", "10"), ("NARRATE_RUN_LEASE_SECS", "3")];
        process::setup_tenant(&db);
        let mut server = Server::start(&db, port, &env, &log).await;
        let c = server.admin().await;
        let templates = reports(&server, &c, &sink, 12).await;
        for t in &templates {
            server.run_now(&c, t).await;
        }
        // Eight runs deliver (3 s each), four wait queued; then the operator stops the server.
        while sink.received_requests().await.unwrap().len() < 8 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.sigterm();
        let took = server.wait_exit(Duration::from_secs(15)).await;
        assert!(took.is_some(), "the server exits within the 10 s grace period plus 5 s; log:\n{}", server.log_tail());
        let server = Server::start(&db, port, &env, &log).await;
        let pool = process::pool(&db).await;
        let runs = common::wait_settled(&pool, 12, Duration::from_secs(60)).await;
        let log = common::received(&sink).await;
        assert_eq!(common::assert_no_duplicates(&log), 12, "every run delivered once ({db})");
        let not_ok: Vec<_> = runs.iter().filter(|r| r.status != "succeeded").collect();
        assert!(
            not_ok.is_empty(),
            "in-flight runs finished in the grace period, queued ones after the restart: {not_ok:?}"
        );
        for r in &runs {
            assert!(log.iter().any(|(_, run)| *run == r.id), "run {} says succeeded and was delivered", r.id);
        }
        drop(server);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_past_the_grace_period_records_interrupted_runs_and_unknown_sends() {
    app::engine::outbound::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let sink = sink(Duration::from_secs(60)).await;
        let log = dir.path().join(format!("short-{}.log", db.len()));
        let port = process::free_port();
        let env = [("NARRATE_SHUTDOWN_GRACE_SECS", "1")];
        process::setup_tenant(&db);
        let mut server = Server::start(&db, port, &env, &log).await;
        let c = server.admin().await;
        let templates = reports(&server, &c, &sink, 3).await;
        let mut run_ids = Vec::new();
        for t in &templates {
            run_ids.push(server.run_now(&c, t).await);
        }
        while sink.received_requests().await.unwrap().len() < 3 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.sigterm();
        let took = server.wait_exit(Duration::from_secs(6)).await;
        assert!(took.is_some(), "the server exits within 1 s + 5 s; log:\n{}", server.log_tail());
        let server = Server::start(&db, port, &env, &log).await;
        let c = server.admin().await;
        for id in &run_ids {
            let v: Value =
                c.get(format!("{}/api/v1/reports/runs/{id}", server.base)).send().await.unwrap().json().await.unwrap();
            assert_eq!(v["status"], "failed", "{v}");
            assert!(v["error"].as_str().unwrap().contains("interrupted by shutdown"), "{v}");
            assert_eq!(v["deliveries"][0]["status"], "unknown", "the send was in flight: {v}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(common::assert_no_duplicates(&common::received(&sink).await), 3, "nothing was sent again");
        drop(server);
    }
}
