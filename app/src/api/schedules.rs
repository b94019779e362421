//! Schedule server functions: the same engine calls as `/api/v1/reports/schedules`.

use crate::model::reports::{ScheduleInput, ScheduleView};
use crate::model::AppError;
use leptos::prelude::*;

/// Creates a schedule.
#[server(prefix = "/sfn", endpoint = "schedules_create", input = server_fn::codec::Json)]
pub async fn create_schedule(input: ScheduleInput) -> Result<ScheduleView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::schedules::create(&state, &p.tenant_id, &p.actor, input).await
}

/// Updates a schedule.
#[server(prefix = "/sfn", endpoint = "schedules_update", input = server_fn::codec::Json)]
pub async fn update_schedule(id: String, input: ScheduleInput) -> Result<ScheduleView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::schedules::update(&state, &p.tenant_id, &p.actor, &id, input).await
}

/// Deletes a schedule.
#[server(prefix = "/sfn", endpoint = "schedules_delete")]
pub async fn delete_schedule(id: String) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::schedules::delete(&state, &p.tenant_id, &p.actor, &id).await
}

/// The next firings of a cron expression in a zone (the live preview).
#[server(prefix = "/sfn", endpoint = "schedules_preview")]
pub async fn preview_schedule(cron: String, timezone: String) -> Result<Vec<String>, AppError> {
    let state = super::ctx::state()?;
    super::ctx::principal()?;
    crate::engine::schedules::preview(&state, &cron, &timezone, 5)
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
