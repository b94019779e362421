//! Saved-report (template) server functions: the same engine calls as `/api/v1/reports/templates`.

use crate::model::reports::{TemplateInput, TemplateView};
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

/// The KPIs a "send only when a KPI moves" condition may watch on a dashboard: (key, label).
#[server(prefix = "/sfn", endpoint = "templates_kpis")]
pub async fn kpi_choices(dashboard: String, period: String) -> Result<Vec<(String, String)>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    let d = crate::model::Dashboard::parse(&dashboard)
        .ok_or_else(|| AppError::invalid("dashboard", "unknown dashboard"))?;
    let period = crate::model::Period::parse(&period).unwrap_or(crate::model::Period::D7);
    crate::engine::templates::kpi_choices(&state, &p.tenant_id, d, period).await
}
