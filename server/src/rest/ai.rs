//! `GET/PUT /ai/provider` and `POST /ai/provider/test` (admin).

use super::extract::{Auth, Body};
use app::engine::ai_settings::{self, AiProviderView, TestResult};
use app::engine::AppState;
use app::model::{AppError, Role};
use axum::extract::State;
use axum::Json;

/// The settings, secrets redacted.
#[utoipa::path(get, path = "/ai/provider", tag = "ai", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    responses((status = 200, description = "The tenant's AI provider, key redacted", body = AiProviderView)))]
pub async fn get(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<AiProviderView>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(ai_settings::get(&s, &p.tenant_id).await?))
}

/// Replaces the settings.
#[utoipa::path(put, path = "/ai/provider", tag = "ai", security(("apiKey" = ["admin"]), ("session" = ["admin"])), request_body = AiProviderView,
    responses((status = 200, description = "The provider as saved, key redacted", body = AiProviderView)))]
pub async fn put(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<AiProviderView>,
) -> Result<Json<AiProviderView>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(ai_settings::put(&s, &p.tenant_id, &p.actor, b).await?))
}

/// Tries the provider.
#[utoipa::path(post, path = "/ai/provider/test", tag = "ai", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    responses((status = 200, description = "What the provider answered", body = TestResult)))]
pub async fn test(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<TestResult>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(ai_settings::test(&s, &p.tenant_id).await?))
}
