//! `/healthz` (is the database reachable) and `/metrics` (Prometheus text format).

use app::engine::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

/// 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query("SELECT 1").execute(&state.db.pool).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(event = "health.db_unreachable", error.message = %e, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Prometheus text exposition of the server's counters.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    out.push_str("# HELP narrate_up Whether the server is running.\n# TYPE narrate_up gauge\nnarrate_up 1\n");
    let tenants = app::engine::store::tenants::count(&state.db).await.unwrap_or(-1);
    out.push_str(&format!(
        "# HELP narrate_tenants Number of tenants.\n# TYPE narrate_tenants gauge\nnarrate_tenants {tenants}\n"
    ));
    for (status, n) in run_counts(&state).await {
        out.push_str(&format!("narrate_runs{{status=\"{status}\"}} {n}\n"));
    }
    out.push_str(&app::engine::metrics::text());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}

async fn run_counts(state: &AppState) -> Vec<(String, i64)> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM report_runs GROUP BY status")
        .fetch_all(&state.db.pool)
        .await
        .unwrap_or_default();
    rows.iter().map(|r| (app::engine::db::get_str(r, "status"), app::engine::db::get_i64(r, "n"))).collect()
}
