//! Runs: Run Now (`/reports/templates/{id}/run-now`), the run record (`/reports/runs`,
//! `/reports/runs/{id}`), artifact downloads, and re-sending one delivery
//! (`/reports/runs/{id}/deliveries/{deliveryId}/resend`). Viewers read; editors run and re-send;
//! other tenants' ids are 404.

use super::extract::{Auth, Ids, Params};
use app::engine::auth::Principal;
use app::engine::scheduler::{history, ledger, runs};
use app::engine::AppState;
use app::model::api::{ErrorBody, Page, ResendAccepted, RunAccepted};
use app::model::reports::RunView;
use app::model::{AppError, Role};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// Starts a run now; 202 with its id.
#[utoipa::path(post, path = "/reports/templates/{id}/run-now", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])), params(("id" = String, Path, description = "Template id")),
    responses((status = 202, description = "The run was queued", body = RunAccepted),
        (status = 409, description = "A run of this template is queued or running; `runId` names it", body = ErrorBody)))]
pub async fn run_now(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<(StatusCode, Json<RunAccepted>), AppError> {
    p.require(Role::Editor)?;
    let run_id = runs::run_now(&s, &p.tenant_id, &p.tenant_name, &p.actor, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(RunAccepted { run_id })))
}

/// Re-sends one failed or unknown delivery of a finished run; 202 with the re-send's id.
#[utoipa::path(post, path = "/reports/runs/{id}/deliveries/{delivery_id}/resend", tag = "reports", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    params(("id" = String, Path, description = "Run id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses((status = 202, description = "One new attempt was queued", body = ResendAccepted),
        (status = 409, description = "The delivery is being sent or re-sent", body = ErrorBody)))]
pub async fn resend(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids((id, delivery_id)): Ids<(String, String)>,
) -> Result<(StatusCode, Json<ResendAccepted>), AppError> {
    p.require(Role::Editor)?;
    let resend_id = ledger::resend(&s, &p.tenant_id, &id, &delivery_id, &p.actor).await?;
    Ok((StatusCode::ACCEPTED, Json(ResendAccepted { resend_id, delivery_id, run_id: id })))
}

/// `?templateId=&limit=&offset=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// Only this template's runs.
    template_id: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Runs to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// A page of runs.
#[utoipa::path(get, path = "/reports/runs", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(RunsQuery),
    responses((status = 200, description = "Runs, newest first", body = Page<RunView>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Params(q): Params<RunsQuery>,
) -> Result<Json<Page<RunView>>, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "between 1 and 200"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::invalid("offset", "must not be negative"));
    }
    let (data, total) = history::list(&s, &p.tenant_id, q.template_id.as_deref(), limit, offset).await?;
    Ok(Json(Page { data, total, limit, offset }))
}

/// One run.
#[utoipa::path(get, path = "/reports/runs/{id}", tag = "reports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), params(("id" = String, Path, description = "Run id")),
    responses((status = 200, description = "The run with its artifacts and deliveries", body = RunView)))]
pub async fn get(State(s): State<AppState>, Auth(p): Auth, Ids(id): Ids<String>) -> Result<Json<RunView>, AppError> {
    Ok(Json(history::get(&s, &p.tenant_id, &id).await?))
}

/// `?expires=&sig=` of a signed link.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Signed links: expiry, Unix seconds.
    expires: Option<i64>,
    /// Signed links: the signature.
    sig: Option<String>,
}

/// An artifact's bytes: for a signed-in member of the run's tenant, or with a valid signed link.
#[utoipa::path(get, path = "/reports/runs/{id}/artifacts/{format}", tag = "reports",
    security((), ("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    params(("id" = String, Path, description = "Run id"), ("format" = String, Path, description = "pdf, csv, md, html or xlsx"), LinkQuery),
    responses((status = 200, description = "The artifact's bytes", content(
        (Vec<u8> = "application/pdf"), (String = "text/csv"), (String = "text/markdown"), (String = "text/html"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn artifact(
    State(s): State<AppState>,
    Ids((id, format)): Ids<(String, String)>,
    Params(q): Params<LinkQuery>,
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

/// A run's `n`th chart as PNG (drawn from the tables the run recorded): the image Slack and Teams
/// messages show, fetched by their servers through the signed link the message carries, or by a
/// signed-in member of the run's tenant.
#[utoipa::path(get, path = "/reports/runs/{id}/charts/{n}", tag = "reports",
    security((), ("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    params(("id" = String, Path, description = "Run id"), ("n" = String, Path, description = "The chart's position in the report, from 0"), LinkQuery),
    responses((status = 200, description = "The chart as a PNG image", content((Vec<u8> = "image/png")))))]
pub async fn chart(
    State(s): State<AppState>,
    Ids((id, n)): Ids<(String, String)>,
    Params(q): Params<LinkQuery>,
    req: Request,
) -> Result<Response, AppError> {
    let principal = req.extensions().get::<Principal>().cloned();
    let index: usize = n.parse().map_err(|_| AppError::not_found("chart"))?;
    let key = format!("chart-{index}");
    let tenant = match (principal, q.expires, q.sig.as_deref()) {
        (Some(p), _, _) => Some(p.tenant_id),
        (None, Some(exp), Some(sig)) if runs::verify_link(&s, &id, &key, exp, sig) => None,
        (None, Some(_), Some(_)) => return Err(AppError::forbidden("the image link is invalid or has expired")),
        (None, _, _) => return Err(AppError::unauthenticated("please sign in or use a signed image link")),
    };
    let png = history::chart_png(&s, tenant.as_deref(), &id, index).await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=3600")], png).into_response())
}
