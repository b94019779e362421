//! Report runs (PRODUCT §8): one pipeline for Run Now and scheduled firings — resolve the
//! period, query the template's sources, narrate, render every chosen format once, store the
//! artifacts with their SHA-256, deliver through the ledger, record the outcome. A run moves
//! queued → running (rendering → delivering) → succeeded | partial | failed, holds a lease while
//! running, and is immutable once finished (the database refuses updates).

use super::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use super::delivery::{Artifact, DeliveryInput, SectionSummary};
use super::render::{self, ReportFormat};
use super::report::{self, Options};
use super::sources::common::iso_instant;
use super::sources::Request;
use super::{ledger, new_id, templates, AppState};
use crate::model::reports::{ArtifactView, DeliveryView, RunNarrative, RunView, TemplateView};
use crate::model::{AppError, Narrative};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long a running run's lease lasts before it counts as abandoned (renewed by heartbeats).
pub fn lease_ms(state: &AppState) -> i64 {
    state.config.run_lease_secs * 1000
}
/// How long signed artifact links stay valid.
pub const LINK_TTL_MS: i64 = 7 * 86_400_000;

/// What starts a run.
pub struct Start<'a> {
    /// The template.
    pub template: &'a TemplateView,
    /// The schedule, for scheduled runs.
    pub schedule_id: Option<&'a str>,
    /// `run_now` or `schedule`.
    pub trigger: &'a str,
    /// Who: an email or `scheduler`.
    pub triggered_by: &'a str,
    /// The slot, for scheduled runs.
    pub scheduled_for: Option<i64>,
}

/// Inserts a queued run with its inputs snapshot; a second run for the same (schedule, slot) is
/// refused by the unique key (None).
pub async fn enqueue(state: &AppState, tenant_id: &str, s: Start<'_>) -> Result<Option<String>, AppError> {
    let id = new_id();
    let now = state.clock.now_ms();
    let inputs = json!({"template": s.template, "scheduleId": s.schedule_id});
    let r = sqlx::query(
        "INSERT INTO report_runs (id, tenant_id, template_id, schedule_id, trigger, triggered_by, scheduled_for, status, phase, inputs, queued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 'queued', $8, $9)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&s.template.id)
    .bind(s.schedule_id)
    .bind(s.trigger)
    .bind(s.triggered_by)
    .bind(s.scheduled_for)
    .bind(inputs.to_string())
    .bind(now)
    .execute(&state.db.pool)
    .await;
    match r {
        Ok(_) => Ok(Some(id)),
        Err(e) if super::db::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The signed query string of an artifact link.
pub fn sign_link(state: &AppState, run_id: &str, format: &str, expires: i64) -> String {
    let key = state.config.secret_key.map(|k| k.to_vec()).unwrap_or_else(|| b"narrate-unsigned".to_vec());
    let mut m = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key");
    m.update(format!("{run_id}:{format}:{expires}").as_bytes());
    format!("expires={expires}&sig={}", hex::encode(m.finalize().into_bytes()))
}

/// Checks a signed artifact link (constant-time comparison).
pub fn verify_link(state: &AppState, run_id: &str, format: &str, expires: i64, sig: &str) -> bool {
    if expires < state.clock.now_ms() {
        return false;
    }
    let expected = sign_link(state, run_id, format, expires);
    let want = expected.rsplit("sig=").next().unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(want.as_bytes(), sig.as_bytes()).into()
}

async fn set_phase(state: &AppState, run_id: &str, phase: &str) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    sqlx::query("UPDATE report_runs SET status = 'running', phase = $1, lease_until = $2, started_at = COALESCE(started_at, $3) WHERE id = $4 AND status IN ('queued', 'running')")
        .bind(phase)
        .bind(now + lease_ms(state))
        .bind(now)
        .bind(run_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Executes a queued run to the end. Never leaves the run unfinished: any error finishes it as
/// `failed` with the reason.
pub async fn execute(state: &AppState, tenant_id: &str, tenant_name: &str, run_id: &str) -> Result<String, AppError> {
    let started = state.clock.now_ms();
    let heartbeat = tokio::spawn(heartbeat(state.clone(), run_id.to_string()));
    let result = pipeline(state, tenant_id, tenant_name, run_id).await;
    heartbeat.abort();
    let (status, narrative, sections, error) = match result {
        Ok((status, n, s)) => (status, n, s, None),
        Err(e) => {
            tracing::error!(event = "run.failed", run.id = %run_id, tenant.id = %tenant_id, error.message = %e.message, "run pipeline failed");
            ("failed".to_string(), None, None, Some(e.message))
        }
    };
    let now = state.clock.now_ms();
    sqlx::query(
        "UPDATE report_runs SET status = $1, phase = 'finished', narrative = $2, sections = $3, error = $4, finished_at = $5, duration_ms = $6, lease_until = NULL \
         WHERE id = $7 AND status IN ('queued', 'running')",
    )
    .bind(&status)
    .bind(narrative.map(|n| n.to_string()))
    .bind(sections.map(|s| s.to_string()))
    .bind(error.as_deref())
    .bind(now)
    .bind(now - started)
    .bind(run_id)
    .execute(&state.db.pool)
    .await?;
    sqlx::query("UPDATE report_schedules SET last_status = $1, last_run_at = $2 WHERE id = (SELECT schedule_id FROM report_runs WHERE id = $3)")
        .bind(&status)
        .bind(now)
        .bind(run_id)
        .execute(&state.db.pool)
        .await?;
    tracing::info!(event = "run.finished", run.id = %run_id, tenant.id = %tenant_id, status = %status, duration_ms = now - started, "run finished");
    Ok(status)
}

/// Renews the run's lease every third of its length while the run is in progress, so only a
/// dead process's runs expire.
async fn heartbeat(state: AppState, run_id: String) {
    let every = std::time::Duration::from_millis((lease_ms(&state) / 3).max(200) as u64);
    loop {
        tokio::time::sleep(every).await;
        let until = state.clock.now_ms() + lease_ms(&state);
        let r = sqlx::query("UPDATE report_runs SET lease_until = $1 WHERE id = $2 AND status = 'running'")
            .bind(until)
            .bind(&run_id)
            .execute(&state.db.pool)
            .await;
        if r.is_err() {
            return;
        }
    }
}

type Finished = (String, Option<serde_json::Value>, Option<serde_json::Value>);

async fn pipeline(state: &AppState, tenant_id: &str, tenant_name: &str, run_id: &str) -> Result<Finished, AppError> {
    let row = sqlx::query("SELECT inputs, schedule_id FROM report_runs WHERE id = $1 AND tenant_id = $2")
        .bind(run_id)
        .bind(tenant_id)
        .fetch_one(&state.db.pool)
        .await?;
    let inputs: serde_json::Value =
        serde_json::from_str(&get_str(&row, "inputs")).map_err(|e| super::error::internal("run inputs", e))?;
    let t: TemplateView =
        serde_json::from_value(inputs["template"].clone()).map_err(|e| super::error::internal("run template", e))?;
    let schedule_id = get_opt_str(&row, "schedule_id");
    set_phase(state, run_id, "rendering").await?;
    let req = Request {
        key: &t.dashboard,
        period: Some(&t.period),
        segment_id: t.segment_id.as_deref(),
        params: t.params.clone(),
    };
    let opts =
        Options { title: Some(t.name.clone()), narrative: t.narrative.enabled, prompt: t.narrative.prompt.clone() };
    let report = report::assemble(state, tenant_id, tenant_name, req, &opts).await?;
    let formats: Vec<ReportFormat> = t.formats.iter().filter_map(|f| ReportFormat::parse(f)).collect();
    let rendered = {
        let report = report.clone();
        tokio::task::spawn_blocking(move || {
            formats.into_iter().map(|f| render::render(&report, f).map(|b| (f, b))).collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| super::error::internal("render task", e))??
    };
    let now = state.clock.now_ms();
    let mut artifacts = Vec::new();
    for (f, bytes) in rendered {
        let sha = hex::encode(Sha256::digest(&bytes));
        let filename = format!("{}-{}.{}", slug(&t.name), &report.generated_at[..10], f.extension());
        sqlx::query(
            "INSERT INTO report_artifacts (id, tenant_id, run_id, format, filename, media_type, size_bytes, sha256, bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(run_id)
        .bind(f.extension())
        .bind(&filename)
        .bind(f.media_type())
        .bind(bytes.len() as i64)
        .bind(&sha)
        .bind(bytes.clone())
        .bind(now)
        .execute(&state.db.pool)
        .await?;
        let link = format!(
            "{}/api/v1/reports/runs/{run_id}/artifacts/{}?{}",
            state.config.public_url,
            f.extension(),
            sign_link(state, run_id, f.extension(), now + LINK_TTL_MS)
        );
        artifacts.push(Artifact {
            format: f.extension().into(),
            filename,
            media_type: f.media_type().into(),
            bytes: Arc::new(bytes),
            sha256: sha,
            download_url: link,
        });
    }
    set_phase(state, run_id, "delivering").await?;
    let dest_ids = match &schedule_id {
        Some(sid) => {
            let s = templates::get_schedule(state, tenant_id, sid).await.ok();
            match s {
                Some(s) if !s.destinations.is_empty() => s.destinations,
                _ => t.fallback_destinations.clone(),
            }
        }
        None => {
            // Run Now delivers to the template's schedules' destinations, else its fallback ones.
            let mut ids: Vec<String> = t.schedules.iter().flat_map(|s| s.destinations.clone()).collect();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                t.fallback_destinations.clone()
            } else {
                ids
            }
        }
    };
    let input = DeliveryInput {
        delivery_id: String::new(),
        run_id: run_id.into(),
        tenant_id: tenant_id.into(),
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        schedule_id: schedule_id.clone(),
        status: "succeeded".into(),
        period: format!("{}, {}", report.period.label(), report.period_text()),
        generated_at: report.generated_at.clone(),
        narrative: report.narrative.clone(),
        sections: report
            .sections
            .iter()
            .map(|s| SectionSummary { id: s.source.clone(), title: s.title.clone(), row_count: s.rows.len() })
            .collect(),
        artifacts,
        run_url: format!("{}/reports/runs/{run_id}", state.config.public_url),
        is_test: false,
    };
    let targets = ledger::resolve(state, tenant_id, &dest_ids).await?;
    let rows = ledger::deliver_run(state, tenant_id, run_id, &input, targets).await?;
    let status = status_of(&rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>());
    let sections = json!(report
        .sections
        .iter()
        .map(|s| json!({"id": s.source, "title": s.title, "rowCount": s.rows.len(), "table": s}))
        .collect::<Vec<_>>());
    let narrative = report.narrative.as_ref().map(|n: &Narrative| json!(n));
    let mut sections_with_period = sections;
    if let Some(a) = sections_with_period.as_array_mut() {
        a.insert(0, json!({"period": input.period}));
    }
    Ok((status, narrative, Some(sections_with_period)))
}

/// Run status from delivery statuses: all delivered/accepted (or none) → succeeded; some failed →
/// partial; every attempted one failed → failed. Skipped destinations do not count either way.
pub fn status_of(deliveries: &[&str]) -> String {
    let attempted: Vec<&&str> = deliveries.iter().filter(|s| **s != "skipped").collect();
    let failed = attempted.iter().filter(|s| ***s == "failed").count();
    if attempted.is_empty() || failed == 0 {
        "succeeded".into()
    } else if failed == attempted.len() {
        "failed".into()
    } else {
        "partial".into()
    }
}

fn slug(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() {
        "report".into()
    } else {
        s.chars().take(60).collect()
    }
}

/// Starts a Run Now: enqueues and executes in the background; answers the run id at once.
pub async fn run_now(
    state: &AppState,
    tenant_id: &str,
    tenant_name: &str,
    actor: &str,
    template_id: &str,
) -> Result<String, AppError> {
    let t = templates::get(state, tenant_id, template_id).await?;
    let start = Start { template: &t, schedule_id: None, trigger: "run_now", triggered_by: actor, scheduled_for: None };
    let run_id = enqueue(state, tenant_id, start).await?.ok_or_else(AppError::internal)?;
    super::store::audit::record_db(
        &state.db,
        super::store::audit::Entry {
            tenant_id,
            actor,
            action: "template.run_now",
            target_kind: "template",
            target_id: template_id,
            detail: json!({"runId": run_id}),
        },
        state.clock.now_ms(),
    )
    .await?;
    let (state, tenant_id, tenant_name, id) =
        (state.clone(), tenant_id.to_string(), tenant_name.to_string(), run_id.clone());
    tokio::spawn(async move {
        if let Err(e) = execute(&state, &tenant_id, &tenant_name, &id).await {
            tracing::error!(event = "run.record_failed", run.id = %id, error.message = %e.message, "could not finish a run");
        }
    });
    Ok(run_id)
}

const RUN_COLS: &str = "id, template_id, schedule_id, trigger, triggered_by, status, phase, scheduled_for, started_at, finished_at, duration_ms, narrative, sections, error, inputs";

async fn view(state: &AppState, r: &sqlx::any::AnyRow) -> Result<RunView, AppError> {
    let id = get_str(r, "id");
    let arts = sqlx::query("SELECT format, filename, media_type, size_bytes, sha256, pruned_at FROM report_artifacts WHERE run_id = $1 ORDER BY format")
        .bind(&id)
        .fetch_all(&state.db.pool)
        .await?;
    let deliveries = ledger::list(state, &id).await?;
    let narrative: Option<Narrative> = get_opt_str(r, "narrative").and_then(|n| serde_json::from_str(&n).ok());
    let sections: Vec<serde_json::Value> =
        get_opt_str(r, "sections").and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    let inputs: serde_json::Value = serde_json::from_str(&get_str(r, "inputs")).unwrap_or_default();
    Ok(RunView {
        template_name: inputs["template"]["name"].as_str().unwrap_or_default().to_string(),
        period: sections.first().and_then(|s| s["period"].as_str()).unwrap_or_default().to_string(),
        sections: sections
            .iter()
            .skip(1)
            .map(|s| {
                (s["title"].as_str().unwrap_or_default().to_string(), s["rowCount"].as_u64().unwrap_or(0) as usize)
            })
            .collect(),
        id,
        template_id: get_str(r, "template_id"),
        schedule_id: get_opt_str(r, "schedule_id"),
        trigger: get_str(r, "trigger"),
        triggered_by: get_str(r, "triggered_by"),
        status: get_str(r, "status"),
        phase: get_str(r, "phase"),
        scheduled_for: get_opt_i64(r, "scheduled_for").map(iso_instant),
        started_at: get_opt_i64(r, "started_at").map(iso_instant),
        finished_at: get_opt_i64(r, "finished_at").map(iso_instant),
        duration_ms: get_opt_i64(r, "duration_ms"),
        narrative: narrative.map(|n| RunNarrative {
            executive_summary: n.executive_summary,
            key_takeaways: n.key_takeaways,
            provider: n.provider,
            fallback: n.fallback,
        }),
        artifacts: arts
            .iter()
            .map(|a| ArtifactView {
                format: get_str(a, "format"),
                filename: get_str(a, "filename"),
                media_type: get_str(a, "media_type"),
                size_bytes: get_i64(a, "size_bytes"),
                sha256: get_str(a, "sha256"),
                pruned: get_opt_i64(a, "pruned_at").is_some(),
            })
            .collect(),
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryView {
                destination_id: d.destination_id,
                kind: d.kind,
                name: d.name,
                status: d.status,
                attempts: d.attempts,
                error: d.error,
            })
            .collect(),
        error: get_opt_str(r, "error"),
    })
}

/// One run of the tenant; 404 otherwise.
pub async fn get(state: &AppState, tenant_id: &str, id: &str) -> Result<RunView, AppError> {
    let sql = format!("SELECT {RUN_COLS} FROM report_runs WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| AppError::not_found("run"))?;
    view(state, &row).await
}

/// A page of runs, newest first (optionally of one template): (runs, total).
pub async fn list(
    state: &AppState,
    tenant_id: &str,
    template_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RunView>, i64), AppError> {
    let filter = if template_id.is_some() { " AND template_id = $2" } else { "" };
    let (l, o) = if template_id.is_some() { ("$3", "$4") } else { ("$2", "$3") };
    let sql = format!("SELECT {RUN_COLS} FROM report_runs WHERE tenant_id = $1{filter} ORDER BY queued_at DESC, id DESC LIMIT {l} OFFSET {o}");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
    let count_sql = format!("SELECT COUNT(*) AS n FROM report_runs WHERE tenant_id = $1{filter}");
    let mut cq = sqlx::query(sqlx::AssertSqlSafe(count_sql)).bind(tenant_id);
    if let Some(t) = template_id {
        q = q.bind(t);
        cq = cq.bind(t);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(&state.db.pool).await?;
    let total = get_i64(&cq.fetch_one(&state.db.pool).await?, "n");
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(view(state, r).await?);
    }
    Ok((out, total))
}

/// An artifact's bytes, file name and media type (tenant-scoped; 404 when pruned or missing).
pub async fn artifact(
    state: &AppState,
    tenant_id: Option<&str>,
    run_id: &str,
    format: &str,
) -> Result<(Vec<u8>, String, String), AppError> {
    let row = sqlx::query(
        "SELECT tenant_id, filename, media_type, bytes FROM report_artifacts WHERE run_id = $1 AND format = $2",
    )
    .bind(run_id)
    .bind(format)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| AppError::not_found("artifact"))?;
    if tenant_id.is_some_and(|t| t != get_str(&row, "tenant_id")) {
        return Err(AppError::not_found("artifact"));
    }
    let bytes: Option<Vec<u8>> = sqlx::Row::try_get(&row, "bytes").ok().flatten();
    let bytes =
        bytes.ok_or_else(|| AppError::not_found("artifact (its bytes were pruned by the retention setting)"))?;
    Ok((bytes, get_str(&row, "filename"), get_str(&row, "media_type")))
}

/// Prunes artifact bytes older than `days`, keeping run metadata; returns how many.
pub async fn prune(state: &AppState, days: i64) -> Result<u64, AppError> {
    let now = state.clock.now_ms();
    let r = sqlx::query(
        "UPDATE report_artifacts SET bytes = NULL, pruned_at = $1 WHERE pruned_at IS NULL AND created_at < $2",
    )
    .bind(now)
    .bind(now - days * 86_400_000)
    .execute(&state.db.pool)
    .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_status_follows_the_delivery_outcomes() {
        assert_eq!(status_of(&[]), "succeeded");
        assert_eq!(status_of(&["delivered", "accepted"]), "succeeded");
        assert_eq!(status_of(&["delivered", "failed"]), "partial");
        assert_eq!(status_of(&["failed", "failed"]), "failed");
        assert_eq!(status_of(&["skipped", "delivered"]), "succeeded");
        assert_eq!(status_of(&["skipped", "failed"]), "failed");
    }

    #[test]
    fn file_names_are_slugs() {
        assert_eq!(slug("Weekly — Revenue (EU)!"), "weekly-revenue-eu");
        assert_eq!(slug("***"), "report");
    }
}
