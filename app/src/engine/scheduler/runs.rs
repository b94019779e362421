//! Executing a run (PRODUCT §8): one pipeline for Run Now, scheduled slots and adopted runs —
//! resolve the period, query the template's sources, narrate, render every chosen format once,
//! store the artifacts with their SHA-256, deliver through the ledger, finish. The run moves
//! queued → running → succeeded | partial | failed (`model::runs`), every write fenced on the
//! run still being running and owned by this process: a process that lost its run (abandoned
//! after a lapsed lease) stops instead of delivering a run the database shows as failed. A run
//! is bounded by [`crate::engine::Config::run_budget`]; past it, it is finished as failed.

use super::executor::{Done, RunRef};
use super::ledger;
use crate::engine::db::retry_transient;
use crate::engine::delivery::{Artifact, DeliveryInput, SectionSummary};
use crate::engine::render::{self, ReportFormat};
use crate::engine::report::{self, Options};
use crate::engine::sources::Request;
use crate::engine::store::runs::Hold;
use crate::engine::store::{self, audit, deliveries, schedules};
use crate::engine::{new_id, templates, AppState};
use crate::model::reports::TemplateView;
use crate::model::runs::{RunStatus, Trigger};
use crate::model::{AppError, Narrative, Report};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long signed artifact links stay valid.
pub const LINK_TTL_MS: i64 = 7 * 86_400_000;

/// The signed query string of an artifact link, with the link-signing key derived from
/// `NARRATE_SECRET_KEY`; without a key there is no link (fail closed, no fallback key).
pub fn sign_link(state: &AppState, run_id: &str, format: &str, expires: i64) -> Result<String, AppError> {
    let master = state.config.secret_key.as_ref().ok_or_else(|| {
        AppError::new(crate::model::ErrorCode::Unavailable, crate::engine::crypto::CryptoError::NoKey.to_string())
    })?;
    let mut m = Hmac::<Sha256>::new_from_slice(&crate::engine::crypto::link_key(master)).expect("HMAC takes any key");
    m.update(format!("{run_id}:{format}:{expires}").as_bytes());
    Ok(format!("expires={expires}&sig={}", hex::encode(m.finalize().into_bytes())))
}

/// Checks a signed artifact link (constant-time comparison); false without a key.
pub fn verify_link(state: &AppState, run_id: &str, format: &str, expires: i64, sig: &str) -> bool {
    if expires < state.clock.now_ms() {
        return false;
    }
    let Ok(expected) = sign_link(state, run_id, format, expires) else { return false };
    let want = expected.rsplit("sig=").next().unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(want.as_bytes(), sig.as_bytes()).into()
}

/// The inputs snapshot stored with a run: the template as it was, and the schedule.
pub fn inputs(template: &TemplateView, schedule_id: Option<&str>) -> String {
    json!({"template": template, "scheduleId": schedule_id}).to_string()
}

/// Executes a queued run this process owns, to the end. Never leaves it unfinished: an error
/// or the time budget finishes it as `failed` with the reason.
pub async fn execute(state: &AppState, run: &RunRef) -> Done {
    let owner = state.executor.leases().owner().to_string();
    let now = state.clock.now_ms();
    let until = now + state.config.run_lease_secs * 1000;
    match retry_transient("runs.start", || store::runs::start(&state.db.pool, &run.id, &owner, now, until)).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(event = "run.lost", run.id = %run.id, "the run is no longer queued for this server (abandoned or adopted); not started");
            return Done::Elsewhere;
        }
        Err(e) => {
            tracing::error!(event = "run.start_failed", run.id = %run.id, error.message = %e, "could not start a run; its lease will lapse and another round takes it");
            return Done::Elsewhere;
        }
    }
    let budget = state.config.run_budget();
    let result = match tokio::time::timeout(budget, pipeline(state, run, &owner)).await {
        Ok(r) => r,
        Err(_) => Err(AppError::new(
            crate::model::ErrorCode::Internal,
            format!("timed out: the run took longer than its {} s budget and was stopped", budget.as_secs()),
        )),
    };
    finish(state, run, &owner, result).await
}

/// What a successful pipeline produced.
struct Produced {
    narrative: Option<String>,
    sections: String,
    generated_at: String,
    /// Why nothing was sent: the template's send condition did not hold.
    skipped: Option<String>,
}

async fn finish(state: &AppState, run: &RunRef, owner: &str, result: Result<Produced, AppError>) -> Done {
    let now = state.clock.now_ms();
    if let Err(e) = &result {
        tracing::error!(event = "run.failed", run.id = %run.id, tenant.id = %run.tenant_id, error.message = %e.message, "run pipeline failed");
    }
    let record = || async {
        let mut tx = state.db.pool.begin().await?;
        // The run row first: nothing may start or settle one of its deliveries from here on.
        if !store::runs::lock(&mut tx, &run.id, RunStatus::Running, Hold::Owner(owner)).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        deliveries::settle_unfinished(&mut tx, &run.id, "the run ended", now).await?;
        let statuses: Vec<_> = deliveries::of_run(&mut tx, &run.id).await?.iter().map(|d| d.status).collect();
        let (status, error) = match &result {
            Ok(Produced { skipped: Some(why), .. }) => (RunStatus::Skipped, Some(why.as_str())),
            Ok(_) => (RunStatus::from_deliveries(&statuses), None),
            Err(e) => (RunStatus::Failed, Some(e.message.as_str())),
        };
        let produced = result.as_ref().ok();
        let f = store::runs::Finish {
            status,
            narrative: produced.and_then(|p| p.narrative.as_deref()),
            sections: produced.map(|p| p.sections.as_str()),
            error,
            generated_at: produced.map(|p| p.generated_at.as_str()),
            now,
        };
        if !store::runs::finish(&mut tx, &run.id, owner, &f).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        schedules::set_last_status(&mut tx, &run.id, status.as_str(), now).await?;
        tx.commit().await?;
        Ok(Some(status))
    };
    // A run's outcome is worth more than one round of retries: three rounds (about 20 s) before
    // it is left to lapse and be finished as abandoned.
    let mut outcome = retry_transient("runs.finish", record).await;
    for _ in 0..2 {
        match &outcome {
            Err(e) if crate::engine::db::is_transient(e) => outcome = retry_transient("runs.finish", record).await,
            _ => break,
        }
    }
    match outcome {
        Ok(Some(status)) => {
            crate::engine::metrics::run_finished(status.as_str());
            tracing::info!(event = "run.finished", run.id = %run.id, tenant.id = %run.tenant_id, status = %status, "run finished");
            Done::Finished(status)
        }
        Ok(None) => {
            tracing::error!(event = "run.lost", run.id = %run.id, "the run was finished elsewhere (its lease lapsed); this server's outcome is not recorded");
            Done::Elsewhere
        }
        Err(e) => {
            tracing::error!(event = "run.record_failed", run.id = %run.id, error.message = %e, "could not record a run's end; it will be finished as abandoned when its lease lapses");
            Done::Elsewhere
        }
    }
}

/// The file name of an artifact: `<slug of name>-<YYYY-MM-DD>.<ext>`, the date taken from the
/// report's generated-at when it starts with one (otherwise left out, never a panic).
pub fn artifact_filename(name: &str, generated_at: &str, extension: &str) -> String {
    let date = generated_at.get(..10).filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
    match date {
        Some(d) => format!("{}-{d}.{extension}", slug(name)),
        None => format!("{}.{extension}", slug(name)),
    }
}

async fn pipeline(state: &AppState, run: &RunRef, owner: &str) -> Result<Produced, AppError> {
    let row = store::runs::get(&state.db.pool, Some(&run.tenant_id), &run.id)
        .await?
        .ok_or_else(|| AppError::not_found("run"))?;
    let inputs: serde_json::Value =
        serde_json::from_str(&row.inputs).map_err(|e| crate::engine::error::internal("run inputs", e))?;
    let t: TemplateView = serde_json::from_value(inputs["template"].clone())
        .map_err(|e| crate::engine::error::internal("run template", e))?;
    let req = Request {
        key: &t.dashboard,
        period: Some(&t.period),
        segment_id: t.segment_id.as_deref(),
        params: t.params.clone(),
    };
    let opts = Options {
        title: Some(t.name.clone()),
        narrative: t.narrative.enabled,
        prompt: t.narrative.prompt.clone(),
        cache_narrative: false,
        page: t.page,
    };
    let report = report::assemble(state, &run.tenant_id, &run.tenant_name, req, &opts).await?;
    let mut sections: Vec<serde_json::Value> =
        vec![json!({"period": format!("{}, {}", report.period.label(), report.period_text())})];
    sections.extend(
        report.sections.iter().map(|s| json!({"id": s.source, "title": s.title, "rowCount": s.rows.len(), "table": s})),
    );
    let produced = |skipped: Option<String>| Produced {
        narrative: report.narrative.as_ref().map(|n: &Narrative| json!(n).to_string()),
        sections: serde_json::Value::Array(sections.clone()).to_string(),
        generated_at: report.generated_at.clone(),
        skipped,
    };
    // "Send only when…": decided on the report the narrative was written from. A run that does
    // not send keeps what it saw (narrative, sections) and renders and delivers nothing.
    match crate::engine::narrative::news::decide(&t.send_when, &report) {
        Err(why) => {
            tracing::info!(event = "run.skipped", run.id = %run.id, tenant.id = %run.tenant_id, reason = %why, "send condition not met; nothing sent");
            return Ok(produced(Some(format!("Not sent: {why}."))));
        }
        Ok(why) if t.send_when.kind != crate::model::reports::SendKind::Always => {
            tracing::info!(event = "run.send_condition_met", run.id = %run.id, reason = %why, "send condition met");
        }
        Ok(_) => {}
    }
    let files = render_files(&t, &report).await?;
    let artifacts = signed_artifacts(state, &run.id, files)?;
    let dest_ids = destinations_for(state, &run.tenant_id, &t, row.schedule_id.as_deref()).await;
    let targets = ledger::resolve(state, &run.tenant_id, &dest_ids).await?;
    let kinds = targets.iter().filter_map(|t| match t {
        ledger::Target::Send { kind, .. } => Some(kind.as_str()),
        _ => None,
    });
    let charts = if charts_wanted(state, kinds) { chart_images(&report.sections).await } else { Vec::new() };
    let mut input = delivery_input(state, &run.id, &run.tenant_id, &t, &report, artifacts, charts);
    input.schedule_id = row.schedule_id.clone();
    let recorded = produced(None);
    ledger::deliver_run(state, &run.id, owner, &input, targets, Some(&recorded.sections)).await?;
    Ok(recorded)
}

/// What every destination of a run is told: the report's period, narrative, key figures,
/// sections and charts, its files and the run page's URL (a delivery preview builds the same with
/// the files unsaved); the caller sets the schedule of a scheduled run.
pub fn delivery_input(
    state: &AppState,
    run_id: &str,
    tenant_id: &str,
    t: &TemplateView,
    report: &Report,
    artifacts: Vec<Artifact>,
    charts: Vec<crate::engine::render::png::ChartImage>,
) -> DeliveryInput {
    DeliveryInput {
        delivery_id: String::new(),
        run_id: run_id.to_string(),
        tenant_id: tenant_id.to_string(),
        template_id: t.id.clone(),
        template_name: t.name.clone(),
        schedule_id: None,
        status: RunStatus::Succeeded,
        period: format!("{}, {}", report.period.label(), report.period_text()),
        generated_at: report.generated_at.clone(),
        narrative: report.narrative.clone(),
        sections: report
            .sections
            .iter()
            .map(|s| SectionSummary { id: s.source.clone(), title: s.title.clone(), row_count: s.rows.len() })
            .collect(),
        kpis: report.kpis.clone(),
        headline_chart: headline_chart(state, run_id, &charts),
        charts,
        artifacts,
        run_url: format!("{}/reports/runs/{run_id}", state.config.public_url),
        is_test: false,
    }
}

/// Whether Slack's and Teams' servers can fetch from `NARRATE_PUBLIC_URL`: HTTPS on a public
/// name or address (not localhost, `.local`, `.internal`, a bare host name, or a private,
/// loopback or link-local address).
pub fn public_reachable(public_url: &str) -> bool {
    let Ok(u) = url::Url::parse(public_url) else { return false };
    if u.scheme() != "https" {
        return false;
    }
    match u.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d.contains('.')
                && d != "localhost"
                && ![".localhost", ".local", ".internal", ".lan", ".home.arpa"].iter().any(|s| d.ends_with(s))
        }
        Some(url::Host::Ipv4(ip)) => !crate::engine::outbound::is_forbidden(ip.into()),
        Some(url::Host::Ipv6(ip)) => !crate::engine::outbound::is_forbidden(ip.into()),
        None => false,
    }
}

/// The headline chart (the report's first) as a signed, expiring image URL and its title, when
/// chat apps can reach `NARRATE_PUBLIC_URL`.
pub fn headline_chart(
    state: &AppState,
    run_id: &str,
    charts: &[crate::engine::render::png::ChartImage],
) -> Option<(String, String)> {
    let first = charts.first()?;
    if !public_reachable(&state.config.public_url) {
        return None;
    }
    let query = sign_link(state, run_id, "chart-0", state.clock.now_ms() + LINK_TTL_MS).ok()?;
    Some((format!("{}/api/v1/reports/runs/{run_id}/charts/0?{query}", state.config.public_url), first.title.clone()))
}

/// Whether any of these destination kinds shows chart images: email always (inline), Slack and
/// Teams when they can fetch the headline chart. Webhooks never do, so a run to webhooks alone
/// draws no PNG.
pub fn charts_wanted<'a>(state: &AppState, mut kinds: impl Iterator<Item = &'a str>) -> bool {
    let chat = public_reachable(&state.config.public_url);
    kinds.any(|k| k == "email" || (chat && matches!(k, "slack" | "teams")))
}

/// The report's charts as PNG for email bodies, drawn off the async threads.
pub async fn chart_images(sections: &[crate::model::Table]) -> Vec<crate::engine::render::png::ChartImage> {
    let sections = sections.to_vec();
    tokio::task::spawn_blocking(move || crate::engine::render::png::charts(&sections)).await.unwrap_or_default()
}

/// Renders each of a template's formats once (off the async threads): (format, file name,
/// SHA-256, bytes).
pub async fn render_files(
    t: &TemplateView,
    report: &Report,
) -> Result<Vec<(ReportFormat, String, String, Vec<u8>)>, AppError> {
    let formats: Vec<ReportFormat> = t.formats.iter().filter_map(|f| ReportFormat::parse(f)).collect();
    let rendered = {
        let report = report.clone();
        tokio::task::spawn_blocking(move || {
            formats.into_iter().map(|f| render::render(&report, f).map(|b| (f, b))).collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| crate::engine::error::internal("render task", e))??
    };
    Ok(rendered
        .into_iter()
        .map(|(f, bytes)| {
            let sha = hex::encode(Sha256::digest(&bytes));
            (f, artifact_filename(&t.name, &report.generated_at, f.extension()), sha, bytes)
        })
        .collect())
}

/// The rendered files as a run's artifacts with signed, expiring download links; the ledger
/// stores them with the run's delivery rows (one transaction, fenced on the run being ours).
fn signed_artifacts(
    state: &AppState,
    run_id: &str,
    files: Vec<(ReportFormat, String, String, Vec<u8>)>,
) -> Result<Vec<Artifact>, AppError> {
    let expires = state.clock.now_ms() + LINK_TTL_MS;
    files
        .into_iter()
        .map(|(f, filename, sha256, bytes)| {
            Ok(Artifact {
                format: f.extension().into(),
                download_url: format!(
                    "{}/api/v1/reports/runs/{run_id}/artifacts/{}?{}",
                    state.config.public_url,
                    f.extension(),
                    sign_link(state, run_id, f.extension(), expires)?
                ),
                filename,
                media_type: f.media_type().into(),
                bytes: Arc::new(bytes),
                sha256,
            })
        })
        .collect()
}

/// Who receives a run: a scheduled run its schedule's destinations, or the template's fallback
/// ones when the schedule has none; Run Now every destination of the template's schedules (each
/// once), or the fallback ones when none is set.
async fn destinations_for(
    state: &AppState,
    tenant_id: &str,
    t: &TemplateView,
    schedule_id: Option<&str>,
) -> Vec<String> {
    let mut ids: Vec<String> = match schedule_id {
        Some(sid) => match super::super::schedules::get(state, tenant_id, sid).await {
            Ok(s) => s.destinations,
            Err(_) => t.schedules.iter().find(|s| s.id == sid).map(|s| s.destinations.clone()).unwrap_or_default(),
        },
        None => t.schedules.iter().flat_map(|s| s.destinations.clone()).collect(),
    };
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        t.fallback_destinations.clone()
    } else {
        ids
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

/// Starts a Run Now: queues the run (refused with 409 and the run's id while another run of the
/// template is queued or running) and executes it on the executor; answers the run id at once.
pub async fn run_now(
    state: &AppState,
    tenant_id: &str,
    tenant_name: &str,
    actor: &str,
    template_id: &str,
) -> Result<String, AppError> {
    if !state.executor.accepting() {
        return Err(AppError::new(
            crate::model::ErrorCode::Unavailable,
            "the server is shutting down; try again in a moment",
        ));
    }
    let t = templates::get(state, tenant_id, template_id).await?;
    state.rate_limits.take(crate::engine::limits::Action::RunNow, tenant_id, actor, state.clock.now_ms())?;
    let busy = |id: String| AppError::conflict("a run of this report is already queued or running").with_run(id);
    if let Some(active) = store::runs::active_for_template(&state.db.pool, tenant_id, template_id).await? {
        return Err(busy(active));
    }
    let (id, now) = (new_id(), state.clock.now_ms());
    let owner = state.executor.leases().owner().to_string();
    let snapshot = inputs(&t, None);
    let new = store::runs::NewRun {
        id: &id,
        tenant_id,
        template_id,
        schedule_id: None,
        trigger: Trigger::RunNow,
        triggered_by: actor,
        scheduled_for: None,
        inputs: &snapshot,
        now,
        owner: &owner,
        lease_until: now + state.config.run_lease_secs * 1000,
    };
    let inserted = retry_transient("runs.run_now", || async {
        let mut tx = state.db.pool.begin().await?;
        if !store::runs::insert_queued(&mut tx, &new).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let entry = audit::Entry {
            tenant_id,
            actor,
            action: "template.run_now",
            target_kind: "template",
            target_id: template_id,
            detail: json!({"runId": id}),
        };
        audit::record(&mut *tx, entry, now).await?;
        tx.commit().await?;
        Ok(true)
    })
    .await?;
    if !inserted {
        let active = store::runs::active_for_template(&state.db.pool, tenant_id, template_id).await?;
        return Err(busy(active.unwrap_or_default()));
    }
    let run = RunRef { id: id.clone(), tenant_id: tenant_id.into(), tenant_name: tenant_name.into() };
    state.executor.submit(state, run);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_slugs_with_the_report_date() {
        assert_eq!(
            artifact_filename("Weekly — Revenue (EU)!", "2026-11-30T12:00:00Z", "pdf"),
            "weekly-revenue-eu-2026-11-30.pdf"
        );
        assert_eq!(artifact_filename("***", "2026-11-30T12:00:00Z", "csv"), "report-2026-11-30.csv");
    }

    #[test]
    fn a_short_or_odd_generated_at_never_panics() {
        assert_eq!(artifact_filename("Weekly", "", "md"), "weekly.md");
        assert_eq!(artifact_filename("Weekly", "2026-11", "md"), "weekly.md");
        assert_eq!(artifact_filename("Weekly", "2026-11-3é0T", "md"), "weekly.md", "a multi-byte character at byte 10");
        assert_eq!(artifact_filename("Weekly", "yesterday at noon", "md"), "weekly.md");
    }
}
