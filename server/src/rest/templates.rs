//! Saved reports: `/reports/templates` and `/reports/templates/{id}`. Viewers read; editors
//! write; other tenants' ids are 404.

use super::extract::{Auth, Body};
use app::engine::{templates, AppState};
use app::model::reports::{TemplateInput, TemplateView};
use app::model::{AppError, Role};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// Lists templates.
pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": templates::list(&s, &p.tenant_id).await? })))
}

/// Creates a template (and its schedule, atomically).
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<TemplateInput>,
) -> Result<(StatusCode, Json<TemplateView>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(templates::create(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// One template.
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<TemplateView>, AppError> {
    Ok(Json(templates::get(&s, &p.tenant_id, &id).await?))
}

/// Updates a template.
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(b): Body<TemplateInput>,
) -> Result<Json<TemplateView>, AppError> {
    p.require(Role::Editor)?;
    Ok(Json(templates::update(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a template and its schedules.
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    p.require(Role::Editor)?;
    templates::delete(&s, &p.tenant_id, &p.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
