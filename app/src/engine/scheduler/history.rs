//! The run record as people read it (`GET /reports/runs`, the Runs tab, the run page): runs with
//! their artifacts, deliveries, every attempt and every re-send. A page of runs costs six
//! queries whatever its size (runs, their count, then artifacts, deliveries, attempts and
//! re-sends for the whole page at once), and artifact downloads are tenant-scoped.

use crate::engine::sources::common::iso_instant;
use crate::engine::store::{self, artifacts::ArtifactRow, deliveries, runs::RunRow};
use crate::engine::AppState;
use crate::model::reports::{ArtifactView, AttemptView, DeliveryView, ResendView, RunNarrative, RunView};
use crate::model::{AppError, Narrative};

fn view(
    r: RunRow,
    artifacts: &[ArtifactRow],
    ds: &[deliveries::DeliveryRow],
    attempts: &[deliveries::AttemptRow],
    resends: &[deliveries::ResendRow],
    kept_days: i64,
) -> RunView {
    let narrative: Option<Narrative> = r.narrative.as_deref().and_then(|n| serde_json::from_str(n).ok());
    let sections: Vec<serde_json::Value> =
        r.sections.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let inputs: serde_json::Value = serde_json::from_str(&r.inputs).unwrap_or_default();
    let deliveries = ds
        .iter()
        .filter(|d| d.run_id == r.id)
        .map(|d| {
            let mine: Vec<&deliveries::ResendRow> = resends.iter().filter(|x| x.delivery_id == d.id).collect();
            let latest = mine.last();
            let history: Vec<AttemptView> = attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .map(|a| AttemptView {
                    number: a.number,
                    at: iso_instant(a.at),
                    result: a.result.clone(),
                    http_status: a.http_status,
                    error: a.error.clone(),
                    resend: a.resend_id.is_some(),
                })
                .collect();
            DeliveryView {
                id: d.id.clone(),
                destination_id: d.destination_id.clone(),
                kind: d.kind.clone(),
                name: d.name.clone(),
                status: latest.map(|x| x.status).unwrap_or(d.status),
                run_status: d.status,
                attempts: d.attempts + mine.iter().map(|x| x.attempts).sum::<i64>(),
                error: match latest {
                    Some(x) => x.error.clone(),
                    None => d.error.clone(),
                },
                history,
                resends: mine
                    .iter()
                    .map(|x| ResendView {
                        id: x.id.clone(),
                        requested_by: x.requested_by.clone(),
                        requested_at: iso_instant(x.requested_at),
                        status: x.status,
                        error: x.error.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    RunView {
        template_name: inputs["template"]["name"].as_str().unwrap_or_default().to_string(),
        period: sections.first().and_then(|s| s["period"].as_str()).unwrap_or_default().to_string(),
        sections: sections
            .iter()
            .skip(1)
            .map(|s| {
                (s["title"].as_str().unwrap_or_default().to_string(), s["rowCount"].as_u64().unwrap_or(0) as usize)
            })
            .collect(),
        template_id: r.template_id,
        schedule_id: r.schedule_id,
        trigger: r.trigger,
        triggered_by: r.triggered_by,
        status: r.status,
        phase: r.phase,
        scheduled_for: r.scheduled_for.map(iso_instant),
        started_at: r.started_at.map(iso_instant),
        finished_at: r.finished_at.map(iso_instant),
        duration_ms: r.duration_ms,
        narrative: narrative.map(|n| RunNarrative {
            executive_summary: n.executive_summary,
            key_takeaways: n.key_takeaways,
            provider: n.provider,
            fallback: n.fallback,
        }),
        artifacts: artifacts
            .iter()
            .filter(|a| a.run_id == r.id)
            .map(|a| ArtifactView {
                format: a.format.clone(),
                filename: a.filename.clone(),
                media_type: a.media_type.clone(),
                size_bytes: a.size_bytes,
                sha256: a.sha256.clone(),
                pruned: a.pruned,
                kept_days: a.pruned.then_some(kept_days),
            })
            .collect(),
        deliveries,
        // A skipped run's `error` column holds why it sent nothing: not an error to people.
        skip_reason: r.error.clone().filter(|_| r.status == crate::model::runs::RunStatus::Skipped),
        error: r.error.filter(|_| r.status != crate::model::runs::RunStatus::Skipped),
        id: r.id,
    }
}

async fn views(state: &AppState, rows: Vec<RunRow>) -> Result<Vec<RunView>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let artifacts = store::artifacts::list_for_runs(&state.db.pool, &ids).await?;
    let (ds, attempts, resends) = deliveries::list_for_runs(&state.db.pool, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| view(r, &artifacts, &ds, &attempts, &resends, state.config.artifact_retention_days))
        .collect())
}

/// One run of the tenant; 404 otherwise.
pub async fn get(state: &AppState, tenant_id: &str, id: &str) -> Result<RunView, AppError> {
    let row = store::runs::get(&state.db.pool, Some(tenant_id), id).await?.ok_or_else(|| AppError::not_found("run"))?;
    Ok(views(state, vec![row]).await?.remove(0))
}

/// The report a run produced, section by section, as its recipients got it (tables with their
/// charts), read from the run's immutable record — not recomputed from today's data.
pub async fn report_sections(
    state: &AppState,
    tenant_id: &str,
    id: &str,
) -> Result<Vec<crate::model::Table>, AppError> {
    let row = store::runs::get(&state.db.pool, Some(tenant_id), id).await?.ok_or_else(|| AppError::not_found("run"))?;
    Ok(recorded_tables(row.sections.as_deref()))
}

/// The tables a run recorded (its `sections` column), in order.
pub fn recorded_tables(sections: Option<&str>) -> Vec<crate::model::Table> {
    let sections: Vec<serde_json::Value> = sections.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    sections.into_iter().filter_map(|s| serde_json::from_value(s.get("table")?.clone()).ok()).collect()
}

/// The `n`th chart of a run as PNG, drawn from the tables it recorded (the image a Slack or Teams
/// message shows); scoped to the tenant when one is given (signed-in callers).
pub async fn chart_png(state: &AppState, tenant_id: Option<&str>, run_id: &str, n: usize) -> Result<Vec<u8>, AppError> {
    let row = store::runs::get(&state.db.pool, tenant_id, run_id).await?.ok_or_else(|| AppError::not_found("run"))?;
    let tables = recorded_tables(row.sections.as_deref());
    let chart = tokio::task::spawn_blocking(move || crate::engine::render::png::nth_chart(&tables, n))
        .await
        .map_err(|e| crate::engine::error::internal("chart task", e))?;
    chart.map(|c| c.png.to_vec()).ok_or_else(|| AppError::not_found("chart"))
}

/// A page of runs, newest first (optionally of one template): (runs, total).
pub async fn list(
    state: &AppState,
    tenant_id: &str,
    template_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RunView>, i64), AppError> {
    let (rows, total) = store::runs::list(&state.db.pool, tenant_id, template_id, limit, offset).await?;
    Ok((views(state, rows).await?, total))
}

/// An artifact's bytes, file name and media type (tenant-scoped; 404 when pruned or missing).
pub async fn artifact(
    state: &AppState,
    tenant_id: Option<&str>,
    run_id: &str,
    format: &str,
) -> Result<(Vec<u8>, String, String), AppError> {
    let (owner, meta, bytes) =
        store::artifacts::get(&state.db.pool, run_id, format).await?.ok_or_else(|| AppError::not_found("artifact"))?;
    if tenant_id.is_some_and(|t| t != owner) {
        return Err(AppError::not_found("artifact"));
    }
    let bytes =
        bytes.ok_or_else(|| AppError::not_found("artifact (its bytes were pruned by the retention setting)"))?;
    Ok((bytes, meta.filename, meta.media_type))
}
