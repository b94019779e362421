//! Saved-report server functions: the same engine calls as the `/api/v1/reports/…` endpoints.

use crate::model::reports::{RunView, ScheduleInput, ScheduleView, TemplateInput, TemplateView};
use crate::model::AppError;
use leptos::prelude::*;

/// The tenant's templates.
#[server(prefix = "/sfn", endpoint = "templates_list")]
pub async fn list_templates() -> Result<Vec<TemplateView>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::templates::list(&state, &p.tenant_id).await
}

/// One template.
#[server(prefix = "/sfn", endpoint = "templates_get")]
pub async fn get_template(id: String) -> Result<TemplateView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::templates::get(&state, &p.tenant_id, &id).await
}

/// Saves a dashboard view as a report (template + schedule in one transaction).
#[server(prefix = "/sfn", endpoint = "templates_create", input = server_fn::codec::Json)]
pub async fn create_template(input: TemplateInput) -> Result<TemplateView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::templates::create(&state, &p.tenant_id, &p.actor, input).await
}

/// Updates a template (name, formats, narrative, enabled).
#[server(prefix = "/sfn", endpoint = "templates_update", input = server_fn::codec::Json)]
pub async fn update_template(id: String, input: TemplateInput) -> Result<TemplateView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::templates::update(&state, &p.tenant_id, &p.actor, &id, input).await
}

/// Deletes a template and its schedules.
#[server(prefix = "/sfn", endpoint = "templates_delete")]
pub async fn delete_template(id: String) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::templates::delete(&state, &p.tenant_id, &p.actor, &id).await
}

/// Starts a run now; answers its id.
#[server(prefix = "/sfn", endpoint = "templates_run_now")]
pub async fn run_now(id: String) -> Result<String, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::runs::run_now(&state, &p.tenant_id, &p.tenant_name, &p.actor, &id).await
}

/// Creates a schedule.
#[server(prefix = "/sfn", endpoint = "schedules_create", input = server_fn::codec::Json)]
pub async fn create_schedule(input: ScheduleInput) -> Result<ScheduleView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::templates::create_schedule(&state, &p.tenant_id, &p.actor, input).await
}

/// Updates a schedule.
#[server(prefix = "/sfn", endpoint = "schedules_update", input = server_fn::codec::Json)]
pub async fn update_schedule(id: String, input: ScheduleInput) -> Result<ScheduleView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::templates::update_schedule(&state, &p.tenant_id, &p.actor, &id, input).await
}

/// Deletes a schedule.
#[server(prefix = "/sfn", endpoint = "schedules_delete")]
pub async fn delete_schedule(id: String) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::templates::delete_schedule(&state, &p.tenant_id, &p.actor, &id).await
}

/// The next firings of a cron expression in a zone (the live preview).
#[server(prefix = "/sfn", endpoint = "schedules_preview")]
pub async fn preview_schedule(cron: String, timezone: String) -> Result<Vec<String>, AppError> {
    let state = super::ctx::state()?;
    super::ctx::principal()?;
    crate::engine::templates::preview(&state, &cron, &timezone, 5)
}

/// A page of a template's runs, newest first: (runs, total).
#[server(prefix = "/sfn", endpoint = "runs_list")]
pub async fn list_runs(template_id: String, offset: i64) -> Result<(Vec<RunView>, i64), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::runs::list(&state, &p.tenant_id, Some(&template_id), 20, offset.max(0)).await
}

/// One run.
#[server(prefix = "/sfn", endpoint = "runs_get")]
pub async fn get_run(id: String) -> Result<RunView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::runs::get(&state, &p.tenant_id, &id).await
}

/// How schedules fire on this installation: (built-in ticker on, last tick time RFC 3339).
#[server(prefix = "/sfn", endpoint = "scheduler_status")]
pub async fn scheduler_status() -> Result<(bool, Option<String>), AppError> {
    let state = super::ctx::state()?;
    super::ctx::principal()?;
    let internal = state.config.scheduler == crate::engine::config::SchedulerMode::Internal;
    let last = state.last_tick.load(std::sync::atomic::Ordering::Relaxed);
    Ok((internal, (last > 0).then(|| crate::engine::sources::common::iso_instant(last))))
}
