//! `POST /api/cron/tick`: an external scheduler's tick. The `x-cron-token` header is compared
//! with `CRON_TOKEN` in constant time; 401 when missing or wrong, 503 when no token is configured
//! (fail closed).

use app::engine::{scheduler, AppState};
use app::model::{AppError, ErrorCode};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use subtle::ConstantTimeEq;

/// Runs one tick and answers its counts.
pub async fn tick(State(s): State<AppState>, headers: HeaderMap) -> Result<Json<scheduler::TickCounts>, AppError> {
    let Some(expected) = s.config.cron_token.as_deref() else {
        return Err(AppError::new(ErrorCode::Unavailable, "the cron tick is disabled: CRON_TOKEN is not configured"));
    };
    let given = headers.get("x-cron-token").map(|v| v.as_bytes()).unwrap_or_default();
    let same: bool = given.ct_eq(expected.as_bytes()).into();
    if !same {
        return Err(AppError::unauthenticated("missing or wrong x-cron-token"));
    }
    let counts = scheduler::tick(&s).await?;
    s.last_tick.store(s.clock.now_ms(), std::sync::atomic::Ordering::Relaxed);
    Ok(Json(counts))
}
