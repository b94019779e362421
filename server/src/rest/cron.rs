//! `POST /api/cron/tick`: an external scheduler's tick. The `x-cron-token` header is compared
//! with `CRON_TOKEN` in constant time; 401 when missing or wrong, 503 when no token is configured
//! (fail closed). The tick claims due schedules and answers at once; the claimed runs continue on
//! the server's executor whatever the caller does (a client that hangs up cancels nothing).
//! `?wait=<seconds>` (0–55, default 0) waits that long for the claimed runs' outcomes first.

use app::engine::{scheduler, AppState};
use app::model::{AppError, ErrorCode};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// `?wait=`.
#[derive(Deserialize)]
pub struct TickQuery {
    #[serde(default)]
    wait: Option<u64>,
}

/// Runs one tick and answers its counts.
pub async fn tick(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TickQuery>,
) -> Result<Json<scheduler::TickCounts>, AppError> {
    let Some(expected) = s.config.cron_token.as_deref() else {
        return Err(AppError::new(ErrorCode::Unavailable, "the cron tick is disabled: CRON_TOKEN is not configured"));
    };
    let given = headers.get("x-cron-token").map(|v| v.as_bytes()).unwrap_or_default();
    let same: bool = given.ct_eq(expected.as_bytes()).into();
    if !same {
        return Err(AppError::unauthenticated("missing or wrong x-cron-token"));
    }
    let wait = q.wait.unwrap_or(0);
    if wait > 55 {
        return Err(AppError::invalid("wait", "between 0 and 55 seconds"));
    }
    // The claims run in a task of their own: a caller that hangs up mid-claim cancels nothing.
    let state = s.clone();
    let tick = tokio::spawn(async move { scheduler::tick(&state).await })
        .await
        .map_err(|e| app::engine::error::internal("tick task", e))??;
    s.last_tick.store(s.clock.now_ms(), std::sync::atomic::Ordering::Relaxed);
    Ok(Json(tick.wait(std::time::Duration::from_secs(wait)).await))
}
