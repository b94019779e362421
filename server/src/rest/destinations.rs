//! `GET/POST /notifications/destinations`, `GET/PATCH/DELETE …/{id}`, `POST …/{id}/test`.
//! Any role reads (secrets redacted); admins write and test.

use super::extract::{Auth, Body};
use app::engine::destinations::{self, DestinationInput, DestinationView, TestOutcome};
use app::engine::AppState;
use app::model::{AppError, Role};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// Lists destinations.
pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": destinations::list(&s, &p.tenant_id, p.role).await? })))
}

/// One destination.
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<DestinationView>, AppError> {
    Ok(Json(destinations::visible_to(destinations::get(&s, &p.tenant_id, &id, false).await?.view, p.role)))
}

/// Creates a destination.
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<DestinationInput>,
) -> Result<(StatusCode, Json<DestinationView>), AppError> {
    p.require(Role::Admin)?;
    Ok((StatusCode::CREATED, Json(destinations::create(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// Updates a destination.
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(b): Body<DestinationInput>,
) -> Result<Json<DestinationView>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(destinations::update(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a destination.
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    p.require(Role::Admin)?;
    destinations::delete(&s, &p.tenant_id, &p.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test message.
pub async fn test(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<TestOutcome>, AppError> {
    p.require(Role::Admin)?;
    Ok(Json(destinations::test(&s, &p.tenant_id, &p.actor, &id).await?))
}
