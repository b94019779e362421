//! `GET/POST /notifications/destinations`, `GET/PATCH/DELETE …/{id}`, `POST …/{id}/test`,
//! `POST …/{id}/preview`. Any role reads (secrets redacted); admins write and test; editors
//! preview what a destination would receive.

use super::extract::{Auth, Body, Ids};
use app::engine::destinations::{self, DestinationInput, DestinationView, TestOutcome};
use app::engine::AppState;
use app::model::api::List;
use app::model::{AppError, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Lists destinations.
#[utoipa::path(get, path = "/notifications/destinations", tag = "destinations", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    responses((status = 200, description = "Destinations, secrets redacted", body = List<DestinationView>)))]
pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<DestinationView>>, AppError> {
    Ok(Json(destinations::list(&s, &p.tenant_id, p.role).await?.into()))
}

/// One destination.
#[utoipa::path(get, path = "/notifications/destinations/{id}", tag = "destinations", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(("id" = String, Path, description = "Destination id")),
    responses((status = 200, description = "The destination, secrets redacted", body = DestinationView)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<Json<DestinationView>, AppError> {
    Ok(Json(destinations::visible_to(destinations::get(&s, &p.tenant_id, &id, false).await?.view, p.role)))
}

/// Creates a destination.
#[utoipa::path(post, path = "/notifications/destinations", tag = "destinations", security(("apiKey" = ["admin"]), ("session" = ["admin"])), request_body = DestinationInput,
    responses((status = 201, description = "The destination", body = DestinationView)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<DestinationInput>,
) -> Result<(StatusCode, Json<DestinationView>), AppError> {
    p.require(Role::Admin)?;
    Ok((StatusCode::CREATED, Json(destinations::create(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// Updates a destination.
#[utoipa::path(patch, path = "/notifications/destinations/{id}", tag = "destinations", security(("apiKey" = ["admin"]), ("session" = ["admin"])), params(("id" = String, Path, description = "Destination id")),
    request_body = DestinationInput, responses((status = 200, description = "The destination as changed", body = DestinationView)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
    Body(b): Body<DestinationInput>,
) -> Result<Json<DestinationView>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(destinations::update(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a destination.
#[utoipa::path(delete, path = "/notifications/destinations/{id}", tag = "destinations", security(("apiKey" = ["admin"]), ("session" = ["admin"])), params(("id" = String, Path, description = "Destination id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Ids(id): Ids<String>) -> Result<StatusCode, AppError> {
    p.require(Role::Admin)?;
    destinations::delete(&s, &p.tenant_id, &p.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test message.
#[utoipa::path(post, path = "/notifications/destinations/{id}/test", tag = "destinations", security(("apiKey" = ["admin"]), ("session" = ["admin"])), params(("id" = String, Path, description = "Destination id")),
    responses((status = 200, description = "What the destination answered to a test message", body = TestOutcome)))]
pub async fn test(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<Json<TestOutcome>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(destinations::test(&s, &p.tenant_id, &p.actor, &id).await?))
}

/// What this destination would receive for a template (by id, or the template body being
/// edited): the same message builders that deliver, nothing sent, secrets redacted.
#[utoipa::path(post, path = "/notifications/destinations/{id}/preview", tag = "destinations", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    params(("id" = String, Path, description = "Destination id")), request_body = app::model::reports::PreviewInput,
    responses((status = 200, description = "The message as the destination would receive it", body = app::model::reports::DeliveryPreview)))]
pub async fn preview(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
    Body(b): Body<app::model::reports::PreviewInput>,
) -> Result<Json<app::model::reports::DeliveryPreview>, AppError> {
    p.require(Role::Editor)?;
    s.rate_limits.take(app::engine::limits::Action::Export, &p.tenant_id, &p.actor, s.clock.now_ms())?;
    let mut list = app::engine::templates::preview_delivery(&s, &p.tenant_id, &p.tenant_name, &[id], b).await?;
    list.pop().map(Json).ok_or_else(AppError::internal)
}
