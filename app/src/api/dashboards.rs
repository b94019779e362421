//! The dashboard server function: the same engine call as `GET /api/v1/dashboards/{key}`.

use crate::model::{AppError, DashboardData};
use leptos::prelude::*;

/// Loads a dashboard for the signed-in user's tenant.
#[server(prefix = "/sfn", endpoint = "dashboard")]
pub async fn get_dashboard(
    key: String,
    period: Option<String>,
    segment_id: Option<String>,
    group_by: Option<String>,
    model: Option<String>,
) -> Result<DashboardData, AppError> {
    use crate::engine::sources::{self, Request};
    let state = super::ctx::state()?;
    let p = super::ctx::principal()?;
    let mut params = std::collections::BTreeMap::new();
    if let Some(g) = group_by.filter(|g| !g.is_empty()) {
        params.insert("groupBy".to_string(), g);
    }
    if let Some(m) = model.filter(|m| !m.is_empty()) {
        params.insert("model".to_string(), m);
    }
    let req = Request { key: &key, period: period.as_deref(), segment_id: segment_id.as_deref(), params };
    sources::load(&state.db, &p.tenant_id, req, state.clock.now_ms()).await
}

/// The Executive dashboard's narrated summary for a period and segment, cached one hour per
/// tenant and filter. None when no narrative could be written (the card then says so).
#[server(prefix = "/sfn", endpoint = "executive_narrative")]
pub async fn executive_narrative(
    period: Option<String>,
    segment_id: Option<String>,
) -> Result<Option<crate::model::Narrative>, AppError> {
    use crate::engine::report::{self, Options};
    use crate::engine::sources::Request;
    let state = super::ctx::state()?;
    let p = super::ctx::principal()?;
    let key = format!("{}|{}|{}", p.tenant_id, period.as_deref().unwrap_or("7d"), segment_id.as_deref().unwrap_or(""));
    let now = state.clock.now_ms();
    if let Some(n) = state.narrative_cache.get(&key, now) {
        return Ok(Some(n));
    }
    let req = Request {
        key: "executive",
        period: period.as_deref(),
        segment_id: segment_id.as_deref(),
        params: Default::default(),
    };
    let opts = Options { narrative: true, ..Options::default() };
    match report::assemble(&state, &p.tenant_id, &p.tenant_name, req, &opts).await {
        Ok(r) => {
            let n = r.narrative;
            if let Some(n) = &n {
                state.narrative_cache.put(key, n.clone(), now);
            }
            Ok(n)
        }
        Err(e) if e.status < 500 => Err(e),
        Err(_) => Ok(None),
    }
}
