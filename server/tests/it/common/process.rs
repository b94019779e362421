//! The real `narrate` binary as child processes: started, signalled, killed and restarted by the
//! tests that judge what survives a process's end. Each child's log goes to a file whose tail is
//! printed when a test fails to start one.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key every process test uses (base64 of 32 bytes).
pub const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// The cron token of process tests.
pub const CRON_TOKEN: &str = "process-test-token";
/// The admin every process test signs in as.
pub const ADMIN: &str = "admin@acme.test";
/// Its password.
pub const ADMIN_PASSWORD: &str = "process-test-password";

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The binary under test: this build's `narrate`, or `NARRATE_TEST_BIN` (to run the same process
/// tests against another build, e.g. the previous version, and watch them fail).
pub fn binary() -> String {
    std::env::var("NARRATE_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_narrate").to_string())
}

/// `narrate` with the settings every process test shares, plus `extra`.
pub fn narrate(db: &str, port: u16, extra: &[(&str, &str)]) -> Command {
    let mut c = Command::new(binary());
    c.env("DATABASE_URL", db)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("NARRATE_SCHEDULER", "external")
        .env("CRON_TOKEN", CRON_TOKEN)
        .env("NARRATE_SECRET_KEY", KEY)
        .env("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1")
        .env("NARRATE_LOG", "info,sqlx=error")
        .env_remove("NARRATE_DEMO");
    for (k, v) in extra {
        c.env(k, v);
    }
    c
}

/// Creates the tenant `acme` and its admin through the CLI.
pub fn setup_tenant(db: &str) {
    let port = free_port();
    assert!(narrate(db, port, &[])
        .args(["tenant", "add", "--slug", "acme", "--name", "Acme"])
        .status()
        .unwrap()
        .success());
    let mut add = narrate(db, port, &[])
        .args(["user", "add", "--tenant", "acme", "--email", ADMIN, "--role", "admin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(add.stdin.as_mut().unwrap(), format!("{ADMIN_PASSWORD}\n").as_bytes()).unwrap();
    drop(add.stdin.take());
    assert!(add.wait().unwrap().success());
}

/// A running `narrate serve`.
pub struct Server {
    /// The child.
    pub child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Its log file.
    pub log: PathBuf,
}

impl Server {
    /// Starts `narrate serve` and waits until `/healthz` answers 200.
    pub async fn start(db: &str, port: u16, extra: &[(&str, &str)], log: &Path) -> Server {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = narrate(db, port, extra).arg("serve").stdout(Stdio::null()).stderr(file).spawn().unwrap();
        let mut s = Server { child, base: format!("http://127.0.0.1:{port}"), log: log.to_path_buf() };
        for _ in 0..300 {
            if reqwest::get(format!("{}/healthz", s.base)).await.is_ok_and(|r| r.status() == 200) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.kill();
        panic!("the server did not start; log:\n{}", s.log_tail());
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit; how long it took, or None.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.child.try_wait().unwrap().is_some() {
                return Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// SIGKILL (no cleanup at all) and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A browser-like client signed in as the admin.
    pub async fn admin(&self) -> reqwest::Client {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("origin", self.base.parse().unwrap());
        h.insert("x-requested-with", "process-test".parse().unwrap());
        let c = reqwest::Client::builder().cookie_store(true).default_headers(h).build().unwrap();
        let r = c
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": ADMIN, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "sign-in failed");
        c
    }

    /// Starts a Run Now of a template; the run id.
    pub async fn run_now(&self, c: &reqwest::Client, template: &str) -> String {
        let r = c.post(format!("{}/api/v1/reports/templates/{template}/run-now", self.base)).send().await.unwrap();
        assert_eq!(r.status(), 202, "run-now");
        r.json::<serde_json::Value>().await.unwrap()["runId"].as_str().unwrap().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A pool on a database the processes share, for assertions.
pub async fn pool(db: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(2).connect(db).await.unwrap()
}
