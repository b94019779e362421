//! The `narrate` server: configuration, the axum router (pages, server functions, REST
//! `/api/v1`, `/api/cron/tick`, `/healthz`, `/metrics`), and the middleware every request passes
//! through (authentication, CSRF defence, sign-in redirect, body limit).

#![recursion_limit = "256"]

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
            move || leptos::prelude::provide_context(ctx_state.clone()),
            move || app::shell(shell_opts.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// Serves until Ctrl-C / SIGTERM, with the built-in ticker unless `NARRATE_SCHEDULER=external`.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let addr = state.config.site_addr;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(event = "server.listening", addr = %addr, "Narrate is listening on http://{addr}");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ticker = (state.config.scheduler == app::engine::config::SchedulerMode::Internal)
        .then(|| tokio::spawn(app::engine::scheduler::run_ticker(state.clone(), stop_rx)));
    let app = router(state);
    axum::serve(listener, app.into_make_service()).with_graceful_shutdown(shutdown_signal()).await?;
    let _ = stop_tx.send(true);
    if let Some(t) = ticker {
        let _ = t.await;
    }
    Ok(())
}

/// Outside demo mode `NARRATE_SECRET_KEY` is required; in demo mode a key is generated once and
/// kept in `./data/secret.key` so stored secrets survive restarts.
pub fn ensure_secret_key(config: &mut Config) -> anyhow::Result<()> {
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
    let path = std::path::Path::new("data/secret.key");
    let key: [u8; 32] = match std::fs::read_to_string(path) {
        Ok(text) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("data/secret.key is corrupt"))?,
        Err(_) => {
            let mut k = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
            std::fs::create_dir_all("data")?;
            std::fs::write(path, base64::engine::general_purpose::STANDARD.encode(k))?;
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
