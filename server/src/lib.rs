//! The `narrate` server: configuration, the axum router (pages, server functions, REST
//! `/api/v1`, `/api/cron/tick`, `/healthz`, `/metrics`), and the middleware every request passes
//! through (authentication, CSRF defence, sign-in redirect, body limit).

#![recursion_limit = "256"]

/// An optional allocator (`--features mimalloc`), kept to be measured against glibc's malloc by
/// `cargo bench -p server --bench render` (RSS over 1 000 PDF renders). On 2026-12-02 mimalloc held
/// 222 MiB from the start and 221 MiB after 1 000 renders, where glibc's malloc had held 184 → 193 MiB
/// (BENCHMARKS.md): mimalloc did not win, so the default build uses the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tunes glibc's malloc for a long-lived server that renders documents on short-lived blocking
/// threads; called first thing in `main`, before the runtime's threads exist. Two settings:
/// - at most two arenas: by default every new thread gets an arena of its own (up to eight per
///   core), and each keeps the pages its thread freed;
/// - a fixed 128 KiB mmap threshold: by default glibc raises it every time a large block is freed,
///   after which the big buffers of a render come from the heap and stay there.
///
/// An operator's own `MALLOC_ARENA_MAX` or `MALLOC_MMAP_THRESHOLD_` wins (nothing is changed).
/// Measured by `scripts/server-rss.sh` (BENCHMARKS.md, memory). The workspace denies `unsafe`;
/// its only exceptions are this function and [`trim_allocator`]: calls of the C library's
/// `mallopt` and `malloc_trim`.
#[allow(unsafe_code)]
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() && std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets the allocator's parameters, and runs before other threads.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}

/// Hands the pages the allocator holds free back to the operating system (glibc keeps them in its
/// arenas otherwise, so a server's resident memory stays at its highest point). `serve` calls it
/// once a second, off the async threads; a call takes well under a millisecond.
#[allow(unsafe_code)]
fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
    // SAFETY: malloc_trim takes each arena's lock and only releases memory that is free.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub mod middleware;
pub mod rest;

use app::engine::{AppState, Clock, Config, Db};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// Largest accepted request body (ingest batches are the biggest legitimate bodies).
pub const BODY_LIMIT_BYTES: usize = 32 * 1024 * 1024;

/// Leptos' site options from the environment, with the defaults `cargo leptos build` produces.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let pkg = std::env::var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|_| "pkg".into());
    LeptosOptions::builder()
        .output_name(std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "narrate".into()))
        .site_root(site_root)
        .site_pkg_dir(pkg)
        .site_addr(config.site_addr)
        .build()
}

/// Connects the database and builds the state (loading the demo tenant when configured).
pub async fn build_state(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database_url).await?;
    let options = leptos_options(&config);
    let state = AppState::new(db, config, clock, options);
    if state.config.demo {
        app::engine::demo::ensure_demo_tenant(&state).await?;
    }
    if state.config.secret_key.is_some() {
        let resealed =
            app::engine::destinations::reseal_legacy(&state).await.map_err(|e| anyhow::anyhow!(e.message))?
                + app::engine::ai_settings::reseal_legacy(&state).await.map_err(|e| anyhow::anyhow!(e.message))?;
        if resealed > 0 {
            tracing::info!(
                event = "secrets.resealed",
                count = resealed,
                "re-sealed stored secrets with the derived key, bound to their place"
            );
        }
    }
    Ok(state)
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let shell_opts = state.leptos_options.clone();
    let ctx_state = state.clone();
    Router::new()
        .nest("/api/v1", rest::router())
        .merge(rest::ops_router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::prelude::provide_context(ctx_state.clone());
                leptos::nonce::provide_nonce();
            },
            move || app::shell(shell_opts.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(middleware::server_fn_status))
        .layer(axum::middleware::from_fn(middleware::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(axum::middleware::from_fn(middleware::limit_body))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// The background work of a serving process: the lease keeper (always) and the built-in ticker
/// (unless `NARRATE_SCHEDULER=external`).
pub struct Background {
    stop_ticker: tokio::sync::watch::Sender<bool>,
    stop_keeper: tokio::sync::watch::Sender<bool>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    keeper: tokio::task::JoinHandle<()>,
    warmer: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the lease keeper and, when configured, the built-in ticker and the dashboards' warmer.
pub fn start_background(state: &AppState) -> Background {
    use app::engine::scheduler::{leases, ticker};
    let (stop_ticker, ticker_rx) = tokio::sync::watch::channel(false);
    let (stop_keeper, keeper_rx) = tokio::sync::watch::channel(false);
    let internal = state.config.scheduler == app::engine::config::SchedulerMode::Internal;
    let ticker = internal.then(|| tokio::spawn(ticker::run(state.clone(), ticker_rx)));
    let keeper = tokio::spawn(leases::keep(state.clone(), keeper_rx));
    tracing::info!(
        event = "executor.started",
        instance = state.executor.leases().owner(),
        max_concurrent_runs = state.executor.max(),
        lease_secs = state.config.run_lease_secs,
        run_budget_secs = state.config.run_budget().as_secs(),
        "run executor started"
    );
    let warmer = state.config.warm_dashboards.then(|| tokio::spawn(warm_dashboards(state.clone())));
    Background { stop_ticker, stop_keeper, ticker, keeper, warmer }
}

/// Fills the dashboards' day cache once at start-up — in the background, so readiness never waits
/// for it — and again a minute after each UTC midnight, when a new day enters every window (and its
/// previous window). See `sources::warm`.
async fn warm_dashboards(state: AppState) {
    loop {
        match app::engine::sources::warm(&state.db, state.clock.now_ms()).await {
            Ok(w) => tracing::info!(
                event = "dashboards.warmed",
                tenants = w.tenants,
                loads = w.loads,
                ms = w.ms as u64,
                "dashboard day cache warmed"
            ),
            Err(e) => {
                tracing::warn!(event = "dashboards.warm_failed", error.message = %e.message, "warming the dashboards failed")
            }
        }
        let now = chrono::Utc::now();
        let next = (now.date_naive() + chrono::Days::new(1)).and_hms_opt(0, 1, 0).map(|t| t.and_utc());
        let wait = next.and_then(|n| (n - now).to_std().ok()).unwrap_or(std::time::Duration::from_secs(3600));
        tokio::time::sleep(wait).await;
    }
}

impl Background {
    /// The graceful stop: the ticker stops claiming at once, in-flight runs get `grace` to
    /// finish, what remains is recorded (runs failed "interrupted by shutdown", sends in flight
    /// unknown, queued runs handed over), and the keeper stops last. Returns (finished, interrupted).
    pub async fn shutdown(self, state: &AppState, grace: std::time::Duration) -> (usize, usize) {
        if let Some(w) = &self.warmer {
            w.abort();
        }
        state.executor.close(); // a tick in progress stops claiming at its next schedule
        let _ = self.stop_ticker.send(true);
        if let Some(t) = self.ticker {
            let abort = t.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), t).await.is_err() {
                abort.abort();
            }
        }
        let (finished, interrupted) = state.executor.drain(state, grace).await;
        let _ = self.stop_keeper.send(true);
        let _ = self.keeper.await;
        (finished, interrupted)
    }
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully: no new claims at once, HTTP drains,
/// in-flight runs get `NARRATE_SHUTDOWN_GRACE_SECS`, and the process exits at most a few seconds
/// after the grace period.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let addr = state.config.site_addr;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(event = "server.listening", addr = %addr, "Narrate is listening on http://{addr}");
    let background = start_background(&state);
    let trim = tokio::spawn(async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            every.tick().await;
            let _ = tokio::task::spawn_blocking(trim_allocator).await;
        }
    });
    let (signalled_tx, mut http_stop) = tokio::sync::watch::channel(false);
    let app = router(state.clone());
    let http = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await
    });
    shutdown_signal().await;
    let _ = signalled_tx.send(true);
    let grace = std::time::Duration::from_secs(state.config.shutdown_grace_secs as u64);
    tracing::info!(
        event = "server.draining",
        grace_secs = grace.as_secs(),
        runs = state.executor.held(),
        "stopping: no new runs; in-flight runs may finish"
    );
    let (finished, interrupted) = background.shutdown(&state, grace).await;
    trim.abort();
    // Requests still open (a long `?wait` tick) get a moment more, then the process exits.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), http).await;
    tracing::info!(event = "server.stopped", runs_finished = finished, runs_interrupted = interrupted, "stopped");
    Ok(())
}

/// Outside demo mode `NARRATE_SECRET_KEY` is required; in demo mode a key is generated once and
/// kept in `./data/secret.key` (readable by its owner only) so stored secrets survive restarts.
pub fn ensure_secret_key(config: &mut Config) -> anyhow::Result<()> {
    ensure_secret_key_at(config, std::path::Path::new("data/secret.key"))
}

/// [`ensure_secret_key`] with the key file at `path`.
pub fn ensure_secret_key_at(config: &mut Config, path: &std::path::Path) -> anyhow::Result<()> {
    use base64::Engine as _;
    if config.secret_key.is_some() {
        return Ok(());
    }
    if !config.demo {
        anyhow::bail!(
            "NARRATE_SECRET_KEY is not set: it encrypts stored secrets (webhook URLs, AI keys). \
             Generate one with `head -c 32 /dev/urandom | base64` and set it, or run with NARRATE_DEMO=1"
        );
    }
    let key: [u8; 32] = match std::fs::read_to_string(path) {
        Ok(text) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("data/secret.key is corrupt"))?,
        Err(_) => {
            let mut k = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            write_owner_only(path, base64::engine::general_purpose::STANDARD.encode(k).as_bytes())?;
            tracing::warn!(
                event = "config.demo_key",
                "NARRATE_SECRET_KEY not set: generated data/secret.key for this demo install"
            );
            k
        }
    };
    config.secret_key = Some(key);
    Ok(())
}

/// Writes a new file readable and writable by its owner only (0600 on Unix).
fn write_owner_only(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(bytes)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!(event = "server.shutdown", "shutting down");
}
