//! Notification destination server functions: the same engine calls as
//! `/api/v1/notifications/destinations` (everyone reads, admins write and test).

use crate::model::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A destination row for the page (secrets already redacted by the engine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationRow {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Enabled.
    pub enabled: bool,
    /// Safe summary.
    pub summary: String,
    /// Redacted configuration as JSON text.
    pub config: String,
}

/// The result of a Test, for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestLine {
    /// Delivered or accepted.
    pub ok: bool,
    /// What happened, in words.
    pub text: String,
}

/// Lists the tenant's destinations.
#[server(prefix = "/sfn", endpoint = "destinations_list")]
pub async fn list_destinations() -> Result<Vec<DestinationRow>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    Ok(crate::engine::destinations::list(&state, &p.tenant_id, p.role)
        .await?
        .into_iter()
        .map(|d| DestinationRow {
            id: d.id,
            kind: d.kind,
            name: d.name,
            enabled: d.enabled,
            summary: d.summary,
            config: d.config.to_string(),
        })
        .collect())
}

/// Creates (no id) or updates (id) a destination; `config` is JSON text (admin).
#[server(prefix = "/sfn", endpoint = "destinations_save")]
pub async fn save_destination(
    id: Option<String>,
    kind: String,
    name: String,
    enabled: bool,
    config: String,
) -> Result<(), AppError> {
    use crate::engine::destinations::{self, DestinationInput};
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    let config: serde_json::Value =
        serde_json::from_str(&config).map_err(|e| AppError::invalid("config", e.to_string()))?;
    let input = DestinationInput { kind: Some(kind), name: Some(name), enabled: Some(enabled), config: Some(config) };
    match id {
        Some(id) => destinations::update(&state, &p.tenant_id, &p.actor, &id, input).await.map(|_| ()),
        None => destinations::create(&state, &p.tenant_id, &p.actor, input).await.map(|_| ()),
    }
}

/// Pauses or resumes a destination (admin).
#[server(prefix = "/sfn", endpoint = "destinations_toggle")]
pub async fn toggle_destination(id: String, enabled: bool) -> Result<(), AppError> {
    use crate::engine::destinations::{self, DestinationInput};
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    let input = DestinationInput { kind: None, name: None, enabled: Some(enabled), config: None };
    destinations::update(&state, &p.tenant_id, &p.actor, &id, input).await.map(|_| ())
}

/// Deletes a destination (admin).
#[server(prefix = "/sfn", endpoint = "destinations_delete")]
pub async fn delete_destination(id: String) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    crate::engine::destinations::delete(&state, &p.tenant_id, &p.actor, &id).await
}

/// Sends a test message (admin).
#[server(prefix = "/sfn", endpoint = "destinations_test")]
pub async fn test_destination(id: String) -> Result<TestLine, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    let r = crate::engine::destinations::test(&state, &p.tenant_id, &p.actor, &id).await?;
    let text = match (&r.error, r.status.as_str()) {
        (None, s) => format!("{s} after {} attempt(s)", r.attempts),
        (Some(e), s) => format!("{s} after {} attempt(s): {e}", r.attempts),
    };
    Ok(TestLine { ok: r.ok, text })
}

/// What each destination would receive for the template being saved or edited (or a saved one):
/// computed by the code that delivers, nothing sent, secrets redacted.
#[server(prefix = "/sfn", endpoint = "destinations_preview", input = server_fn::codec::Json)]
pub async fn preview_deliveries(
    destination_ids: Vec<String>,
    input: crate::model::reports::PreviewInput,
) -> Result<Vec<crate::model::reports::DeliveryPreview>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Editor)?;
    if destination_ids.len() > 20 {
        return Err(AppError::invalid("destinations", "preview at most 20 destinations at once"));
    }
    state.rate_limits.take(crate::engine::limits::Action::Export, &p.tenant_id, &p.actor, state.clock.now_ms())?;
    crate::engine::templates::preview_delivery(&state, &p.tenant_id, &p.tenant_name, &destination_ids, input).await
}
