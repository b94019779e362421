//! Runs: Run Now (`/reports/templates/{id}/run-now`), the run record (`/reports/runs`,
//! `/reports/runs/{id}`), artifact downloads, and re-sending one delivery
//! (`/reports/runs/{id}/deliveries/{deliveryId}/resend`). Viewers read; editors run and re-send;
//! other tenants' ids are 404.

use super::extract::Auth;
use app::engine::auth::Principal;
use app::engine::scheduler::{history, ledger, runs};
use app::engine::AppState;
use app::model::reports::RunView;
use app::model::{AppError, Role};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

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

/// Re-sends one failed or unknown delivery of a finished run; 202 with the re-send's id.
pub async fn resend(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let resend_id = ledger::resend(&s, &p.tenant_id, &id, &delivery_id, &p.actor).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "resendId": resend_id, "deliveryId": delivery_id, "runId": id }))))
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
pub async fn list(
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
    let (data, total) = history::list(&s, &p.tenant_id, q.template_id.as_deref(), limit, offset).await?;
    Ok(Json(json!({ "data": data, "total": total, "limit": limit, "offset": offset })))
}

/// One run.
pub async fn get(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Result<Json<RunView>, AppError> {
    Ok(Json(history::get(&s, &p.tenant_id, &id).await?))
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
    let (bytes, name, media) = history::artifact(&s, tenant.as_deref(), &id, &format).await?;
    Ok((
        [(header::CONTENT_TYPE, media), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        bytes,
    )
        .into_response())
}
