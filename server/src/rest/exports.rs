//! `POST /reports/preview`: a one-off export of a dashboard view (any role). Nothing is persisted.

use super::extract::{Auth, Body};
use app::engine::render::{self, ReportFormat};
use app::engine::report::{self, Options};
use app::engine::sources::Request;
use app::engine::AppState;
use app::model::AppError;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The preview body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewBody {
    /// The dashboard (e.g. `executive`).
    dashboard: String,
    /// `pdf`, `csv`, `md`, `html` or `xlsx`.
    format: String,
    /// The dashboard's period (default `7d`).
    #[serde(default)]
    period: Option<String>,
    /// Only this segment.
    #[serde(default)]
    segment_id: Option<String>,
    /// Write a narrative (default true; never for CSV).
    #[serde(default = "yes")]
    #[schema(default = true)]
    narrative: bool,
    /// On-screen source parameters (`groupBy`, `model`): at most 10, names ≤ 64 characters, values ≤ 200.
    #[serde(default)]
    params: BTreeMap<String, String>,
    /// Paper and orientation of a PDF or HTML export (default A4 portrait).
    #[serde(default)]
    page: app::model::PageSetup,
}

fn yes() -> bool {
    true
}

/// Renders the artifact and answers it as a download.
#[utoipa::path(post, path = "/reports/preview", tag = "exports", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])), request_body = PreviewBody,
    responses((status = 200, description = "The rendered file, as an attachment", content(
        (Vec<u8> = "application/pdf"), (String = "text/csv"), (String = "text/markdown"), (String = "text/html"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn preview(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<PreviewBody>,
) -> Result<Response, AppError> {
    let format = ReportFormat::parse(&b.format).ok_or_else(|| {
        AppError::invalid("format", format!("unknown format '{}': expected {}", b.format, ReportFormat::NAMES))
    })?;
    app::engine::templates::check_params(&b.params).map_err(|e| AppError::validation(vec![e]))?;
    s.rate_limits.take(app::engine::limits::Action::Export, &p.tenant_id, &p.actor, s.clock.now_ms())?;
    let req = Request {
        key: &b.dashboard,
        period: b.period.as_deref(),
        segment_id: b.segment_id.as_deref(),
        params: b.params,
    };
    // The narrative of a view is cached for an hour like the Executive card's (an AI provider is
    // asked at most once an hour per tenant and view, however often it is exported).
    let opts = Options {
        narrative: b.narrative && format != ReportFormat::Csv,
        cache_narrative: true,
        page: b.page,
        ..Options::default()
    };
    let report = report::assemble(&s, &p.tenant_id, &p.tenant_name, req, &opts).await?;
    let started = std::time::Instant::now();
    let (report, bytes) = tokio::task::spawn_blocking(move || {
        let bytes = render::render(&report, format);
        (report, bytes)
    })
    .await
    .map_err(|e| app::engine::error::internal("render task", e))?;
    let bytes = bytes?;
    tracing::info!(event = "export.rendered", tenant.id = %p.tenant_id, format = format.extension(), bytes = bytes.len(), duration_ms = started.elapsed().as_millis() as u64, "export rendered");
    let name = render::filename(&report, format);
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
