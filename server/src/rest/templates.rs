//! Saved reports: `/reports/templates` and `/reports/templates/{id}`. Viewers read; editors
//! write; other tenants' ids are 404.

use super::extract::{Auth, Body, Ids};
use app::engine::{templates, AppState};
use app::model::api::List;
use app::model::reports::{TemplateInput, TemplateView};
use app::model::{AppError, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Lists templates.
#[utoipa::path(get, path = "/reports/templates", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    responses((status = 200, description = "Saved reports", body = List<TemplateView>)))]
pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<TemplateView>>, AppError> {
    Ok(Json(templates::list(&s, &p.tenant_id).await?.into()))
}

/// Creates a template (and its schedule, atomically).
#[utoipa::path(post, path = "/reports/templates", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), request_body = TemplateInput,
    responses((status = 201, description = "The template (and its schedule, when one was sent)", body = TemplateView)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<TemplateInput>,
) -> Result<(StatusCode, Json<TemplateView>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(templates::create(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// One template.
#[utoipa::path(get, path = "/reports/templates/{id}", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(("id" = String, Path, description = "Template id")),
    responses((status = 200, description = "The template", body = TemplateView)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<Json<TemplateView>, AppError> {
    Ok(Json(templates::get(&s, &p.tenant_id, &id).await?))
}

/// Updates a template.
#[utoipa::path(patch, path = "/reports/templates/{id}", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), params(("id" = String, Path, description = "Template id")),
    request_body = TemplateInput, responses((status = 200, description = "The template as changed", body = TemplateView)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
    Body(b): Body<TemplateInput>,
) -> Result<Json<TemplateView>, AppError> {
    p.require(Role::Editor)?;
    Ok(Json(templates::update(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a template and its schedules.
#[utoipa::path(delete, path = "/reports/templates/{id}", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), params(("id" = String, Path, description = "Template id")),
    responses((status = 204, description = "Deleted with its schedules")))]
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Ids(id): Ids<String>) -> Result<StatusCode, AppError> {
    p.require(Role::Editor)?;
    templates::delete(&s, &p.tenant_id, &p.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
