//! `GET /dashboards/{key}?period=&segmentId=&…`: a dashboard's tables as JSON (any role).

use super::extract::Auth;
use app::engine::sources::{self, Request};
use app::engine::AppState;
use app::model::{AppError, DashboardData};
use axum::extract::{Path, Query, State};
use axum::Json;
use std::collections::BTreeMap;

/// Loads a dashboard for the caller's tenant. Extra query parameters (`groupBy`, `model`) are
/// passed to the data sources.
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(key): Path<String>,
    Query(mut q): Query<BTreeMap<String, String>>,
) -> Result<Json<DashboardData>, AppError> {
    let period = q.remove("period");
    let segment = q.remove("segmentId");
    let req = Request { key: &key, period: period.as_deref(), segment_id: segment.as_deref(), params: q };
    Ok(Json(sources::load(&s.db, &p.tenant_id, req, s.clock.now_ms()).await?))
}
