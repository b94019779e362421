//! Run server functions: Run Now, the run record, and re-sending one delivery — the same engine
//! calls as `/api/v1/reports/…/run-now`, `/reports/runs` and `…/deliveries/{id}/resend`.

use crate::model::reports::RunView;
use crate::model::AppError;
use leptos::prelude::*;

/// Starts a run now; answers its id (409 with the run's id while one is queued or running).
#[server(prefix = "/sfn", endpoint = "templates_run_now")]
pub async fn run_now(id: String) -> Result<String, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::scheduler::runs::run_now(&state, &p.tenant_id, &p.tenant_name, &p.actor, &id).await
}

/// A page of a template's runs, newest first: (runs, total).
#[server(prefix = "/sfn", endpoint = "runs_list")]
pub async fn list_runs(template_id: String, offset: i64) -> Result<(Vec<RunView>, i64), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::scheduler::history::list(&state, &p.tenant_id, Some(&template_id), 20, offset.max(0)).await
}

/// The report a run produced: its sections' tables and charts, from the run's record.
#[server(prefix = "/sfn", endpoint = "runs_report")]
pub async fn run_report(id: String) -> Result<Vec<crate::model::Table>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::scheduler::history::report_sections(&state, &p.tenant_id, &id).await
}

/// One run.
#[server(prefix = "/sfn", endpoint = "runs_get")]
pub async fn get_run(id: String) -> Result<RunView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::scheduler::history::get(&state, &p.tenant_id, &id).await
}

/// Re-sends one failed or unknown delivery of a finished run; answers the re-send's id.
#[server(prefix = "/sfn", endpoint = "deliveries_resend")]
pub async fn resend_delivery(run_id: String, delivery_id: String) -> Result<String, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    crate::engine::scheduler::ledger::resend(&state, &p.tenant_id, &run_id, &delivery_id, &p.actor).await
}
