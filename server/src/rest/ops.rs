//! `/healthz` (the database answers, and the built-in ticker is ticking) and `/metrics`
//! (Prometheus text format: runs by status, executor load, the ticker's last tick, deliveries,
//! render time, tick lag).

use app::engine::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

/// 200 "ok" when the database answers and the built-in ticker (when on) ticked within three
/// minutes; 503 with the reason otherwise.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(e) = sqlx::query("SELECT 1").execute(&state.db.pool).await {
        tracing::error!(event = "health.db_unreachable", error.message = %e, "database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable".to_string());
    }
    if let Some(why) = state.ticker.stale(state.clock.now_ms()) {
        tracing::warn!(event = "health.ticker_stale", reason = %why, "scheduler unhealthy");
        return (StatusCode::SERVICE_UNAVAILABLE, why);
    }
    (StatusCode::OK, "ok".to_string())
}

/// Prometheus text exposition of the server's counters (its own, in memory: nothing scans the
/// runs table). With `NARRATE_METRICS_TOKEN` set, only `Authorization: Bearer <token>` is answered
/// (compared in constant time).
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> axum::response::Response {
    if let Some(expected) = state.config.metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let same: bool = subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into();
        if !same {
            return app::model::AppError::unauthenticated(
                "/metrics needs Authorization: Bearer <NARRATE_METRICS_TOKEN>",
            )
            .into_response();
        }
    }
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: String| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"));
    };
    gauge("narrate_up", "Whether the server is running.", "1".into());
    let tenants = app::engine::store::tenants::count(&state.db).await.unwrap_or(-1);
    gauge("narrate_tenants", "Number of tenants.", tenants.to_string());
    gauge("narrate_runs_executing", "Runs this server is executing now.", state.executor.running().to_string());
    gauge(
        "narrate_runs_held",
        "Runs and re-sends this server owns (executing or queued).",
        state.executor.held().to_string(),
    );
    gauge("narrate_runs_max_concurrent", "NARRATE_MAX_CONCURRENT_RUNS.", state.executor.max().to_string());
    let last = state.ticker.last_tick();
    gauge(
        "narrate_scheduler_last_tick_timestamp_seconds",
        "When the built-in ticker last ticked well (0: never, or the scheduler is external).",
        format!("{:.3}", last as f64 / 1000.0),
    );
    gauge(
        "narrate_scheduler_tick_failures",
        "Built-in ticks that failed or panicked since start.",
        state.ticker.failures().to_string(),
    );
    out.push_str(&app::engine::metrics::text());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
