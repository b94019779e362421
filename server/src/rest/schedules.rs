//! Schedules: `/reports/schedules`, `/reports/schedules/{id}` and the live preview
//! `/reports/schedules/preview`. Viewers read; editors write; other tenants' ids are 404.

use super::extract::{Auth, Body, Ids, Params};
use app::engine::{schedules, AppState};
use app::model::api::{FireTimes, List};
use app::model::reports::{ScheduleInput, ScheduleView};
use app::model::{AppError, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// `?templateId=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// Only this template's schedules.
    template_id: Option<String>,
}

/// Lists schedules.
#[utoipa::path(get, path = "/reports/schedules", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(ScheduleQuery),
    responses((status = 200, description = "Schedules", body = List<ScheduleView>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Params(q): Params<ScheduleQuery>,
) -> Result<Json<List<ScheduleView>>, AppError> {
    Ok(Json(schedules::list(&s, &p.tenant_id, q.template_id.as_deref()).await?.into()))
}

/// Creates a schedule.
#[utoipa::path(post, path = "/reports/schedules", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), request_body = ScheduleInput,
    responses((status = 201, description = "The schedule", body = ScheduleView)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<ScheduleInput>,
) -> Result<(StatusCode, Json<ScheduleView>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(schedules::create(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// One schedule.
#[utoipa::path(get, path = "/reports/schedules/{id}", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(("id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The schedule", body = ScheduleView)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<Json<ScheduleView>, AppError> {
    Ok(Json(schedules::get(&s, &p.tenant_id, &id).await?))
}

/// Updates a schedule.
#[utoipa::path(patch, path = "/reports/schedules/{id}", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), params(("id" = String, Path, description = "Schedule id")),
    request_body = ScheduleInput, responses((status = 200, description = "The schedule as changed", body = ScheduleView)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
    Body(b): Body<ScheduleInput>,
) -> Result<Json<ScheduleView>, AppError> {
    p.require(Role::Editor)?;
    Ok(Json(schedules::update(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a schedule.
#[utoipa::path(delete, path = "/reports/schedules/{id}", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), params(("id" = String, Path, description = "Schedule id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Ids(id): Ids<String>) -> Result<StatusCode, AppError> {
    p.require(Role::Editor)?;
    schedules::delete(&s, &p.tenant_id, &p.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?cron=&timezone=&count=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// A 5-field cron expression.
    cron: String,
    /// An IANA time zone.
    #[serde(default = "utc")]
    #[param(default = "UTC")]
    timezone: String,
    /// How many fire times, 1–200.
    #[serde(default = "five")]
    #[param(default = 5, minimum = 1, maximum = 200)]
    count: usize,
}

fn utc() -> String {
    "UTC".into()
}

fn five() -> usize {
    5
}

/// The next firings of a cron expression.
#[utoipa::path(get, path = "/reports/schedules/preview", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(PreviewQuery),
    responses((status = 200, description = "The next fire times", body = FireTimes)))]
pub async fn preview(
    State(s): State<AppState>,
    Auth(_p): Auth,
    Params(q): Params<PreviewQuery>,
) -> Result<Json<FireTimes>, AppError> {
    Ok(Json(FireTimes { next: schedules::preview(&s, &q.cron, &q.timezone, q.count)? }))
}
