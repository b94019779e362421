//! Schedules: `/reports/schedules`, `/reports/schedules/{id}` and the live preview
//! `/reports/schedules/preview`. Viewers read; editors write; other tenants' ids are 404.

use super::extract::{Auth, Body};
use app::engine::{schedules, AppState};
use app::model::reports::{ScheduleInput, ScheduleView};
use app::model::{AppError, Role};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// `?templateId=`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleQuery {
    template_id: Option<String>,
}

/// Lists schedules.
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ScheduleQuery>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": schedules::list(&s, &p.tenant_id, q.template_id.as_deref()).await? })))
}

/// Creates a schedule.
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<ScheduleInput>,
) -> Result<(StatusCode, Json<ScheduleView>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(schedules::create(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// One schedule.
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, AppError> {
    Ok(Json(schedules::get(&s, &p.tenant_id, &id).await?))
}

/// Updates a schedule.
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(b): Body<ScheduleInput>,
) -> Result<Json<ScheduleView>, AppError> {
    p.require(Role::Editor)?;
    Ok(Json(schedules::update(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a schedule.
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    p.require(Role::Editor)?;
    schedules::delete(&s, &p.tenant_id, &p.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?cron=&timezone=&count=`.
#[derive(Deserialize)]
pub struct PreviewQuery {
    cron: String,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default = "five")]
    count: usize,
}

fn utc() -> String {
    "UTC".into()
}

fn five() -> usize {
    5
}

/// The next firings of a cron expression.
pub async fn preview(
    State(s): State<AppState>,
    Auth(_p): Auth,
    Query(q): Query<PreviewQuery>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "next": schedules::preview(&s, &q.cron, &q.timezone, q.count)? })))
}
