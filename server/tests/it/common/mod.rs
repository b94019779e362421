//! Test harness: starts the real router on 127.0.0.1:0 over a fresh SQLite file — or, when
//! `TEST_DATABASE_URL` is set, a fresh PostgreSQL database — with a manual clock.
#![allow(dead_code)]

pub mod process;

use app::engine::{auth, store, AppState, Clock, Config};
use app::model::Role;
use std::collections::HashMap;

/// A fixed "now" for tests: 2026-11-30T12:00:00Z.
pub const NOW: i64 = 1_796_040_000_000;
/// The password of every test user.
pub const PASSWORD: &str = "correct-horse-battery";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on `TEST_DATABASE_URL`.
    Postgres,
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// The server's state (database, clock).
    pub state: AppState,
    /// The lease keeper (and the ticker, when internal), stopped by [`TestApp::shutdown`].
    pub background: Option<server::Background>,
    /// The database URL (other processes may share it).
    pub database_url: String,
    _dir: tempfile::TempDir,
}

/// A tenant with one user per role.
pub struct Tenant {
    /// Tenant id.
    pub id: String,
    /// Slug.
    pub slug: String,
    /// `admin@<slug>.test`, …
    pub emails: HashMap<Role, String>,
}

impl TestApp {
    /// Starts a server; None when the backend is PostgreSQL and no `TEST_DATABASE_URL` is set.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, &[]).await
    }

    /// Starts a server with extra configuration variables.
    pub async fn start_with(backend: Backend, vars: &[(&str, &str)]) -> Option<TestApp> {
        Self::start_clocked(backend, vars, Clock::manual(NOW)).await
    }

    /// Starts a server on the system clock (leases and slots pass in real time).
    pub async fn start_real_clock(backend: Backend, vars: &[(&str, &str)]) -> Option<TestApp> {
        Self::start_clocked(backend, vars, Clock::System).await
    }

    /// Starts a server with a given clock.
    pub async fn start_clocked(backend: Backend, vars: &[(&str, &str)], clock: Clock) -> Option<TestApp> {
        app::engine::outbound::install_crypto();
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}/narrate.db", dir.path().display()),
            Backend::Postgres => fresh_postgres().await?,
        };
        let mut map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        map.insert("DATABASE_URL".into(), url);
        map.entry("NARRATE_SCHEDULER".into()).or_insert_with(|| "external".into());
        // Tests talk to local servers; SSRF tests set this to 0 explicitly.
        map.entry("NARRATE_ALLOW_PRIVATE_DESTINATIONS".into()).or_insert_with(|| "1".into());
        map.entry("NARRATE_SECRET_KEY".into()).or_insert_with(|| "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into());
        let database_url = map["DATABASE_URL"].clone();
        let config = Config::from_lookup(|k| map.get(k).cloned()).expect("config");
        let state = server::build_state(config, clock).await.expect("state");
        let background = Some(server::start_background(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = server::router(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
        });
        Some(TestApp { base, state, background, database_url, _dir: dir })
    }

    /// The graceful stop of the server's background work (ticker, executor drain, keeper).
    pub async fn shutdown(&mut self, grace: std::time::Duration) -> (usize, usize) {
        match self.background.take() {
            Some(b) => b.shutdown(&self.state, grace).await,
            None => (0, 0),
        }
    }

    /// One tick, waiting up to a minute for the runs it claimed (tests with quick sinks).
    pub async fn tick(&self) -> app::engine::scheduler::TickCounts {
        app::engine::scheduler::tick(&self.state).await.unwrap().wait(std::time::Duration::from_secs(60)).await
    }

    /// Creates a tenant with an admin, an editor and a viewer.
    pub async fn tenant(&self, slug: &str) -> Tenant {
        let db = &self.state.db;
        let t = store::tenants::create(db, slug, &format!("{slug} Inc"), NOW).await.unwrap();
        let hash = auth::hash_password(PASSWORD).unwrap();
        let mut emails = HashMap::new();
        for role in [Role::Admin, Role::Editor, Role::Viewer] {
            let email = format!("{}@{slug}.test", role.as_str());
            store::users::create(db, &t.id, &email, &format!("{role} of {slug}"), &hash, role, NOW).await.unwrap();
            emails.insert(role, email);
        }
        Tenant { id: t.id, slug: slug.into(), emails }
    }

    /// A browser-like client (cookie jar, same-origin headers) signed in as `role` of `tenant`.
    pub async fn client_as(&self, tenant: &Tenant, role: Role) -> reqwest::Client {
        let c = self.browser();
        let r = c
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": tenant.emails[&role], "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "sign-in as {role} failed");
        c
    }

    /// A client with a cookie jar that sends this site's Origin and X-Requested-With.
    pub fn browser(&self) -> reqwest::Client {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("origin", self.base.parse().unwrap());
        h.insert("x-requested-with", "narrate-test".parse().unwrap());
        reqwest::Client::builder().cookie_store(true).default_headers(h).build().unwrap()
    }

    /// A plain client: no cookies, no special headers.
    pub fn plain(&self) -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// An API key for the tenant with a role.
    pub async fn api_key(&self, tenant: &Tenant, role: Role) -> String {
        let key = auth::new_api_key();
        let new = store::api_keys::NewKey {
            tenant_id: &tenant.id,
            name: "test",
            role,
            key_hash: &auth::token_hash(&key),
            prefix: &key[..8],
            created_by: "test",
            expires_at: None,
            now: NOW,
        };
        store::api_keys::insert(&self.state.db, &new).await.unwrap();
        key
    }

    /// An absolute URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a webhook destination through the API as `admin`; returns its id.
    pub async fn webhook(&self, admin: &reqwest::Client, name: &str, url: &str) -> String {
        create_webhook(admin, &self.base, name, url).await
    }
}

/// Creates a webhook destination on the server at `base` (for tests that run their own process).
pub async fn create_webhook(admin: &reqwest::Client, base: &str, name: &str, url: &str) -> String {
    let r = admin
        .post(format!("{base}/api/v1/notifications/destinations"))
        .json(&serde_json::json!({"kind": "webhook", "name": name, "config": {"url": url}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "creating webhook destination {name}");
    let v: serde_json::Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Creates a uniquely named database on the `TEST_DATABASE_URL` server.
pub async fn fresh_postgres() -> Option<String> {
    let admin_url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    sqlx::any::install_default_drivers();
    let name = format!("narrate_test_{}", uuid_like());
    let pool = sqlx::AnyPool::connect(&admin_url).await.expect("connect TEST_DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.expect("create database");
    pool.close().await;
    let (head, tail) = admin_url.split_once("://").unwrap();
    let (auth_host, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let query = rest.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    Some(format!("{head}://{auth_host}/{name}{query}"))
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", n, std::process::id())
}

/// Runs a test body on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::common::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                run($crate::common::TestApp::start($crate::common::Backend::Sqlite).await.unwrap()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                match $crate::common::TestApp::start($crate::common::Backend::Postgres).await {
                    Some(app) => run(app).await,
                    None => eprintln!("TEST_DATABASE_URL is not set: PostgreSQL variant not run"),
                }
            }
        }
    };
}

/// Creates a small saved report (business dashboard, CSV, no narrative) with one schedule as
/// `c` on the server at `base`; returns its JSON.
pub async fn small_report(
    c: &reqwest::Client,
    base: &str,
    name: &str,
    cron: &str,
    destinations: &[String],
) -> serde_json::Value {
    let body = serde_json::json!({
        "name": name, "dashboard": "business", "period": "7d", "formats": ["csv"], "narrative": {"enabled": false},
        "schedule": {"cronExpression": cron, "timezone": "UTC", "destinations": destinations},
    });
    let r = c.post(format!("{base}/api/v1/reports/templates")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201, "creating report {name}");
    r.json().await.unwrap()
}

/// The report of a dashboard view of `tenant_id` (tenant name "Acme"), with its narrative, as
/// Export and Run Now assemble it.
pub async fn narrated_report(app: &TestApp, tenant_id: &str, key: &str, period: &str) -> app::model::Report {
    let req = app::engine::sources::Request { key, period: Some(period), segment_id: None, params: Default::default() };
    let opts = app::engine::report::Options { narrative: true, ..Default::default() };
    app::engine::report::assemble(&app.state, tenant_id, "Acme", req, &opts).await.unwrap()
}

/// Makes schedules due at `at` (as if their slot had come), straight in the database.
pub async fn make_due(pool: &sqlx::AnyPool, schedule_ids: &[String], at: i64) {
    for id in schedule_ids {
        sqlx::query("UPDATE report_schedules SET next_run_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    }
}

/// A run as the database holds it, for assertions.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub schedule_id: Option<String>,
    pub scheduled_for: Option<i64>,
    pub status: String,
    pub error: Option<String>,
}

/// Every run, oldest first.
pub async fn runs(pool: &sqlx::AnyPool) -> Vec<RunRecord> {
    use app::engine::db::{get_opt_i64, get_opt_str, get_str};
    let rows =
        sqlx::query("SELECT id, schedule_id, scheduled_for, status, error FROM report_runs ORDER BY queued_at, id")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.iter()
        .map(|r| RunRecord {
            id: get_str(r, "id"),
            schedule_id: get_opt_str(r, "schedule_id"),
            scheduled_for: get_opt_i64(r, "scheduled_for"),
            status: get_str(r, "status"),
            error: get_opt_str(r, "error"),
        })
        .collect()
}

/// Waits until at least `n` runs exist and none is queued or running; panics after `limit`.
pub async fn wait_settled(pool: &sqlx::AnyPool, n: usize, limit: std::time::Duration) -> Vec<RunRecord> {
    let end = std::time::Instant::now() + limit;
    loop {
        let all = runs(pool).await;
        if all.len() >= n && all.iter().all(|r| r.status != "queued" && r.status != "running") {
            return all;
        }
        assert!(std::time::Instant::now() < end, "runs did not settle in {limit:?}: {all:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// What a webhook sink received: (`webhook-id` header, `runId` of the body), in arrival order.
pub async fn received(sink: &wiremock::MockServer) -> Vec<(String, String)> {
    sink.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
            let id = r.headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            Some((id, body["runId"].as_str()?.to_string()))
        })
        .collect()
}

/// Asserts every run id was received exactly once; returns how many distinct runs arrived.
pub fn assert_no_duplicates(log: &[(String, String)]) -> usize {
    let mut by_run: HashMap<&str, usize> = HashMap::new();
    for (_, run) in log {
        *by_run.entry(run.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = by_run.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    by_run.len()
}

/// Like [`db_test!`], on the system clock with extra configuration: leases, retries and slow
/// receivers pass in real time.
#[macro_export]
macro_rules! db_test_real {
    ($name:ident, $vars:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::common::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                run($crate::common::TestApp::start_real_clock($crate::common::Backend::Sqlite, $vars).await.unwrap()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                match $crate::common::TestApp::start_real_clock($crate::common::Backend::Postgres, $vars).await {
                    Some(app) => run(app).await,
                    None => eprintln!("TEST_DATABASE_URL is not set: PostgreSQL variant not run"),
                }
            }
        }
    };
}

/// Makes every `event` on `table` fail (a fault injected with a database trigger), e.g.
/// `("report_runs", "INSERT")` or `("report_runs", "UPDATE OF lease_until")`.
pub async fn inject_fault(app: &TestApp, name: &str, table: &str, event: &str) {
    let pool = &app.state.db.pool;
    match app.state.db.dialect {
        app::engine::db::Dialect::Sqlite => {
            let sql = format!(
                "CREATE TRIGGER {name} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.unwrap();
        }
        app::engine::db::Dialect::Postgres => {
            let f = format!("CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END; $$ LANGUAGE plpgsql");
            sqlx::query(sqlx::AssertSqlSafe(f)).execute(pool).await.unwrap();
            let t = format!("CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()");
            sqlx::query(sqlx::AssertSqlSafe(t)).execute(pool).await.unwrap();
        }
    }
}

/// Removes a fault injected by [`inject_fault`].
pub async fn clear_fault(app: &TestApp, name: &str, table: &str) {
    let sql = match app.state.db.dialect {
        app::engine::db::Dialect::Sqlite => format!("DROP TRIGGER {name}"),
        app::engine::db::Dialect::Postgres => format!("DROP TRIGGER {name} ON {table}"),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&app.state.db.pool).await.unwrap();
}

impl TestApp {
    /// Another server process's state on the same database (its own instance id and executor,
    /// no background work): what a replica would see and do.
    pub async fn peer(&self) -> AppState {
        server::build_state((*self.state.config).clone(), self.state.clock.clone()).await.unwrap()
    }

    /// The `lease_until` of a run.
    pub async fn lease_of(&self, run_id: &str) -> Option<i64> {
        let r = sqlx::query("SELECT lease_until FROM report_runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap();
        app::engine::db::get_opt_i64(&r, "lease_until")
    }
}
