//! Saved reports: `/reports/templates`, `/reports/templates/{id}/run-now`, `/reports/schedules`,
//! `/reports/schedules/preview`, `/reports/runs`, `/reports/runs/{id}/artifacts/{format}`.
//! Viewers read; editors write and run; other tenants' ids are 404.

use super::extract::{Auth, Body};
use app::engine::auth::Principal;
use app::engine::{runs, templates, AppState};
use app::model::reports::{RunView, ScheduleInput, ScheduleView, TemplateInput, TemplateView};
use app::model::{AppError, Role};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
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

/// Starts a run now; 202 with its id.
pub async fn run_now(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let run_id = runs::run_now(&s, &p.tenant_id, &p.tenant_name, &p.actor, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "runId": run_id }))))
}

/// `?templateId=`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleQuery {
    template_id: Option<String>,
}

/// Lists schedules.
pub async fn list_schedules(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ScheduleQuery>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": templates::schedules(&s, &p.tenant_id, q.template_id.as_deref()).await? })))
}

/// Creates a schedule.
pub async fn create_schedule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<ScheduleInput>,
) -> Result<(StatusCode, Json<ScheduleView>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(templates::create_schedule(&s, &p.tenant_id, &p.actor, b).await?)))
}

/// One schedule.
pub async fn get_schedule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, AppError> {
    Ok(Json(templates::get_schedule(&s, &p.tenant_id, &id).await?))
}

/// Updates a schedule.
pub async fn update_schedule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(b): Body<ScheduleInput>,
) -> Result<Json<ScheduleView>, AppError> {
    p.require(Role::Editor)?;
    Ok(Json(templates::update_schedule(&s, &p.tenant_id, &p.actor, &id, b).await?))
}

/// Deletes a schedule.
pub async fn delete_schedule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    p.require(Role::Editor)?;
    templates::delete_schedule(&s, &p.tenant_id, &p.actor, &id).await?;
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
    Ok(Json(json!({ "next": templates::preview(&s, &q.cron, &q.timezone, q.count)? })))
}

/// `?templateId=&limit=&offset=`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunsQuery {
    template_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A page of runs.
pub async fn list_runs(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Value>, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "between 1 and 200"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::invalid("offset", "must not be negative"));
    }
    let (data, total) = runs::list(&s, &p.tenant_id, q.template_id.as_deref(), limit, offset).await?;
    Ok(Json(json!({ "data": data, "total": total, "limit": limit, "offset": offset })))
}

/// One run.
pub async fn get_run(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<RunView>, AppError> {
    Ok(Json(runs::get(&s, &p.tenant_id, &id).await?))
}

/// `?expires=&sig=` of a signed link.
#[derive(Deserialize)]
pub struct LinkQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// An artifact's bytes: for a signed-in member of the run's tenant, or with a valid signed link.
pub async fn artifact(
    State(s): State<AppState>,
    Path((id, format)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
    req: Request,
) -> Result<Response, AppError> {
    let principal = req.extensions().get::<Principal>().cloned();
    let tenant = match (principal, q.expires, q.sig.as_deref()) {
        (Some(p), _, _) => Some(p.tenant_id),
        (None, Some(exp), Some(sig)) if runs::verify_link(&s, &id, &format, exp, sig) => None,
        (None, Some(_), Some(_)) => return Err(AppError::forbidden("the download link is invalid or has expired")),
        (None, _, _) => return Err(AppError::unauthenticated("please sign in or use a signed download link")),
    };
    let (bytes, name, media) = runs::artifact(&s, tenant.as_deref(), &id, &format).await?;
    Ok((
        [(header::CONTENT_TYPE, media), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        bytes,
    )
        .into_response())
}
