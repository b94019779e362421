//! `GET /dashboards/{key}?period=&segmentId=&…`: a dashboard's tables as JSON (any role).

use super::extract::{Auth, Ids, Params};
use app::engine::sources::{self, Request};
use app::engine::AppState;
use app::model::{AppError, Dashboard, DashboardData};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The dashboard's filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// `today`, `7d`, `14d`, `30d` or `90d` (default `7d`).
    period: Option<String>,
    /// Only this segment (one of the tenant's segments); `segment` is accepted as an alias.
    #[serde(alias = "segment")]
    segment_id: Option<String>,
    /// Business: `offer`, `channel`, `category` or `segment`.
    group_by: Option<String>,
    /// Attribution: `linear`, `last_touch`, `first_touch`, `time_decay` or `position_based`.
    model: Option<String>,
}

/// Loads a dashboard for the caller's tenant; `groupBy` and `model` go to the data sources.
#[utoipa::path(get, path = "/dashboards/{key}", tag = "dashboards", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    params(("key" = Dashboard, Path, description = "The dashboard"), DashboardQuery),
    responses((status = 200, description = "Everything the dashboard shows", body = DashboardData)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(key): Ids<String>,
    Params(q): Params<DashboardQuery>,
) -> Result<Json<DashboardData>, AppError> {
    let params: BTreeMap<String, String> = [("groupBy", q.group_by), ("model", q.model)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect();
    let req = Request { key: &key, period: q.period.as_deref(), segment_id: q.segment_id.as_deref(), params };
    Ok(Json(sources::load(&s.db, &p.tenant_id, req, s.clock.now_ms()).await?))
}
