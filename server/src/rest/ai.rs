//! `GET/PUT /ai/provider` and `POST /ai/provider/test` (admin).

use super::extract::{Auth, Body};
use app::engine::ai_settings::{self, AiProviderView, TestResult};
use app::engine::AppState;
use app::model::{AppError, Role};
use axum::extract::State;
use axum::Json;

/// The settings, secrets redacted.
pub async fn get(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<AiProviderView>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(ai_settings::get(&s, &p.tenant_id).await?))
}

/// Replaces the settings.
pub async fn put(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<AiProviderView>,
) -> Result<Json<AiProviderView>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(ai_settings::put(&s, &p.tenant_id, &p.actor, b).await?))
}

/// Tries the provider.
pub async fn test(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<TestResult>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(ai_settings::test(&s, &p.tenant_id).await?))
}
