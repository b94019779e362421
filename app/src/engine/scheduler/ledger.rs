//! The delivery ledger: one row per (run, destination), unique, so a destination is sent a run at
//! most once even if delivery is started twice (a retried tick, a restarted process). A row goes
//! pending → sending before the first byte leaves and to its outcome after the last; every
//! attempt is written as it ends. If the process dies while sending, the row is left `sending`
//! and becomes `unknown` when the run is finished as abandoned: never retried automatically
//! (the receiver may have it), shown as such, and re-sendable by a person — with the same
//! delivery id, so a receiver that de-duplicates on it (Standard Webhooks' `webhook-id`) drops a
//! copy it already has. Destinations are delivered concurrently and independently: one that
//! fails, panics or hangs never stops another. Paused, deleted or missing destinations are
//! recorded as `skipped` with the reason.

use crate::engine::db::retry_transient;
use crate::engine::delivery::{self, Artifact, AttemptRecord, DeliveryInput, Destination, SectionSummary, Settings};
use crate::engine::store::{self, audit, deliveries};
use crate::engine::{destinations, new_id, AppState};
use crate::model::runs::{DeliveryStatus, RunPhase, RunStatus};
use crate::model::{AppError, ErrorCode, Narrative};
use serde_json::json;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Where a run goes: resolved destinations, or the reason one is skipped.
pub enum Target {
    /// Deliver to it.
    Send {
        /// Destination id.
        id: String,
        /// Kind.
        kind: String,
        /// Name.
        name: String,
        /// The adapter configuration (secrets opened).
        destination: Destination,
    },
    /// Record it as failed without sending: it exists but cannot be used (e.g. its secrets can no
    /// longer be opened after a key change). Counts as not delivered.
    Broken {
        /// Destination id.
        id: String,
        /// Why.
        reason: String,
    },
    /// Record it as skipped.
    Skip {
        /// Destination id.
        id: String,
        /// Kind, if known.
        kind: String,
        /// Name, if known.
        name: String,
        /// Why.
        reason: String,
    },
}

impl Target {
    fn id(&self) -> &str {
        match self {
            Target::Send { id, .. } | Target::Skip { id, .. } | Target::Broken { id, .. } => id,
        }
    }
}

/// Resolves destination ids of the tenant into targets (paused, deleted, unknown → skipped).
pub async fn resolve(state: &AppState, tenant_id: &str, ids: &[String]) -> Result<Vec<Target>, AppError> {
    let mut out = Vec::new();
    for id in ids {
        let skip = |kind: String, name: String, reason: &str| Target::Skip {
            id: id.clone(),
            kind,
            name,
            reason: reason.into(),
        };
        match destinations::get(state, tenant_id, id, true).await {
            Err(e) if e.status == 404 => {
                out.push(skip("unknown".into(), "unknown".into(), "the destination no longer exists"))
            }
            // One unusable destination never keeps the report from the others.
            Err(e) => out.push(Target::Broken {
                id: id.clone(),
                reason: format!("the destination could not be loaded: {}", e.message),
            }),
            Ok(s) if s.deleted_at.is_some() => out.push(skip(s.view.kind, s.view.name, "the destination was deleted")),
            Ok(s) if !s.view.enabled => out.push(skip(s.view.kind, s.view.name, "the destination is paused")),
            Ok(s) => out.push(Target::Send {
                id: id.clone(),
                kind: s.view.kind,
                name: s.view.name,
                destination: s.destination,
            }),
        }
    }
    Ok(out)
}

/// Delivers a run to its targets through the ledger, concurrently and independently. The run's
/// files (`input.artifacts`) and its ledger rows are stored in one transaction fenced on the run
/// still being running and owned by `owner` (one commit where there were two), together with the
/// run's recorded `sections` when given: the chart links that Slack and Teams messages carry are
/// drawn from them, and those servers fetch the image as the message arrives, before the run ends.
/// A row that exists already (a second delivery of the same run) is never sent again.
pub async fn deliver_run(
    state: &AppState,
    run_id: &str,
    owner: &str,
    input: &DeliveryInput,
    targets: Vec<Target>,
    sections: Option<&str>,
) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    let rows = retry_transient("ledger.create", || async {
        let mut tx = state.db.pool.begin().await?;
        if !store::runs::fence(&mut tx, run_id, owner, RunPhase::Delivering, sections).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        for a in &input.artifacts {
            let a = store::artifacts::NewArtifact {
                tenant_id: &input.tenant_id,
                run_id,
                format: &a.format,
                filename: &a.filename,
                media_type: &a.media_type,
                sha256: &a.sha256,
                bytes: &a.bytes,
                now,
            };
            store::artifacts::insert(&mut tx, &a).await?;
        }
        for t in &targets {
            let (kind, name, status, error) = match t {
                Target::Send { kind, name, .. } => (kind.as_str(), name.as_str(), DeliveryStatus::Pending, None),
                Target::Skip { kind, name, reason, .. } => {
                    (kind.as_str(), name.as_str(), DeliveryStatus::Skipped, Some(reason.as_str()))
                }
                Target::Broken { reason, .. } => ("unknown", "unknown", DeliveryStatus::Failed, Some(reason.as_str())),
            };
            let d = deliveries::NewDelivery {
                tenant_id: &input.tenant_id,
                run_id,
                destination_id: t.id(),
                kind,
                name,
                status,
                error,
                now,
            };
            deliveries::insert(&mut tx, &d).await?;
        }
        let rows = deliveries::of_run(&mut tx, run_id).await?;
        tx.commit().await?;
        Ok(Some(rows))
    })
    .await?
    .ok_or_else(|| AppError::conflict("the run is no longer owned by this server (its lease lapsed); not delivered"))?;
    let settings = destinations::settings(state);
    let mut tasks = JoinSet::new();
    for t in targets {
        let Target::Send { id, destination, .. } = t else { continue };
        let Some(row) = rows.iter().find(|r| r.destination_id == id && r.status == DeliveryStatus::Pending) else {
            tracing::info!(event = "delivery.already_claimed", run.id = %run_id, destination.id = %id, "not sent again");
            continue;
        };
        let (state, settings, owner, delivery_id) =
            (state.clone(), settings.clone(), owner.to_string(), row.id.clone());
        let mut input = input.clone();
        input.delivery_id = delivery_id.clone();
        tasks.spawn(async move { send_one(&state, &owner, &delivery_id, &destination, &input, &settings).await });
    }
    let died = join_independent(tasks).await;
    if died > 0 {
        tracing::error!(event = "delivery.task_died", run.id = %run_id, count = died, "delivery tasks died; their deliveries are recorded as unknown");
    }
    Ok(())
}

/// Awaits every task; one that panics or is cancelled is counted and logged, never stopping the
/// others. Returns how many died.
pub async fn join_independent(mut tasks: JoinSet<()>) -> usize {
    let mut died = 0;
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            died += 1;
            tracing::error!(
                event = "delivery.task_failed",
                panicked = e.is_panic(),
                "a delivery task ended abnormally"
            );
        }
    }
    died
}

/// One destination's delivery: pending → sending (only while the run is ours), the attempts
/// (each written as it ends), the outcome.
async fn send_one(
    state: &AppState,
    owner: &str,
    delivery_id: &str,
    destination: &Destination,
    input: &DeliveryInput,
    settings: &Settings,
) {
    let pool = &state.db.pool;
    let started = retry_transient("ledger.sending", || {
        deliveries::start_sending(pool, delivery_id, &input.run_id, owner, state.clock.now_ms())
    })
    .await;
    match started {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(event = "delivery.not_sent", run.id = %input.run_id, delivery.id = %delivery_id, "the run is no longer ours; not sent");
            return;
        }
        Err(e) => {
            tracing::error!(event = "delivery.not_sent", run.id = %input.run_id, delivery.id = %delivery_id, error.message = %e, "could not mark the delivery as sending; not sent");
            return;
        }
    }
    let outcome = send_recorded(state, destination, input, settings, delivery_id, None, 0).await;
    let o = deliveries::Outcome {
        status: outcome.status,
        error: outcome.error.as_deref(),
        response_id: outcome.response_id.as_deref(),
        now: state.clock.now_ms(),
    };
    match retry_transient("ledger.finish", || deliveries::finish(pool, delivery_id, &o)).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(event = "delivery.outcome_late", delivery.id = %delivery_id, status = %outcome.status, "the run was abandoned while sending; the delivery stays unknown")
        }
        Err(e) => {
            tracing::error!(event = "delivery.record_failed", delivery.id = %delivery_id, error.message = %e, "could not record a delivery's outcome; it will show as unknown")
        }
    }
}

/// Sends through the retry loop, writing each attempt as it ends (numbered after `first`).
async fn send_recorded(
    state: &AppState,
    destination: &Destination,
    input: &DeliveryInput,
    settings: &Settings,
    delivery_id: &str,
    resend_id: Option<&str>,
    first: i64,
) -> delivery::Outcome {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<AttemptRecord>();
    let send = delivery::deliver(destination, input, settings, move |a: &AttemptRecord| {
        let _ = tx.send(a.clone());
    });
    let record = async {
        while let Some(a) = rx.recv().await {
            let rec = deliveries::NewAttempt {
                delivery_id,
                resend_id,
                number: first + i64::from(a.number),
                at: a.at.timestamp_millis(),
                result: &a.result,
                http_status: a.http_status.map(i64::from),
                error: a.error.as_deref(),
                now: state.clock.now_ms(),
            };
            if let Err(e) = retry_transient("ledger.attempt", || deliveries::record_attempt(&state.db.pool, &rec)).await
            {
                tracing::error!(event = "delivery.attempt_not_recorded", delivery.id = %delivery_id, error.message = %e, "could not record an attempt");
            }
        }
    };
    let (outcome, ()) = tokio::join!(send, record);
    tracing::info!(
        event = "delivery.finished", run.id = %input.run_id, delivery.id = %delivery_id, delivery.kind = destination.kind(),
        status = %outcome.status, attempts = outcome.attempts, resend = resend_id.is_some(), "delivery finished"
    );
    crate::engine::metrics::delivery(destination.kind(), outcome.status.as_str(), outcome.attempts);
    outcome
}

/// Re-sends one `failed` or `unknown` delivery of a finished run (editor): one new delivery —
/// with the same delivery id — through the same adapters, its attempts recorded under a new
/// re-send row with who asked. The run record itself never changes. Answers the re-send's id.
pub async fn resend(
    state: &AppState,
    tenant_id: &str,
    run_id: &str,
    delivery_id: &str,
    actor: &str,
) -> Result<String, AppError> {
    if !state.executor.accepting() {
        return Err(AppError::new(ErrorCode::Unavailable, "the server is shutting down; try again in a moment"));
    }
    let pool = &state.db.pool;
    let run = store::runs::get(pool, Some(tenant_id), run_id).await?.ok_or_else(|| AppError::not_found("run"))?;
    let (d, last) =
        deliveries::get(pool, tenant_id, run_id, delivery_id).await?.ok_or_else(|| AppError::not_found("delivery"))?;
    if !run.status.is_finished() {
        return Err(AppError::conflict("the run is still in progress; re-send once it has finished"));
    }
    let current = last.as_ref().map(|r| r.status).unwrap_or(d.status);
    if !current.resendable() {
        let why = match current {
            DeliveryStatus::Sending | DeliveryStatus::Pending => {
                "a re-send of this delivery is in progress".to_string()
            }
            other => format!("only failed or unknown deliveries can be re-sent; this one is {other}"),
        };
        return Err(AppError::conflict(why));
    }
    let stored = match destinations::get(state, tenant_id, &d.destination_id, true).await {
        Ok(s) if s.deleted_at.is_some() => return Err(AppError::invalid("destination", "the destination was deleted")),
        Ok(s) if !s.view.enabled => {
            return Err(AppError::invalid("destination", "the destination is paused; resume it first"))
        }
        Ok(s) => s,
        Err(e) if e.status == 404 => return Err(AppError::invalid("destination", "the destination no longer exists")),
        Err(e) => return Err(e),
    };
    let input = rebuild_input(state, &run, &d.id, &d.kind).await?;
    let first = deliveries::last_attempt_number(pool, &d.id).await?;
    let (id, now) = (new_id(), state.clock.now_ms());
    let owner = state.executor.leases().owner().to_string();
    let new = deliveries::NewResend {
        id: &id,
        tenant_id,
        delivery_id: &d.id,
        requested_by: actor,
        now,
        owner: &owner,
        lease_until: now + state.config.run_lease_secs * 1000,
    };
    let detail = json!({"runId": run_id, "resendId": id, "destinationId": d.destination_id, "was": current.as_str()});
    let created = retry_transient("ledger.resend", || async {
        let mut tx = pool.begin().await?;
        if !deliveries::insert_resend(&mut tx, &new).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let entry = audit::Entry {
            tenant_id,
            actor,
            action: "delivery.resend",
            target_kind: "delivery",
            target_id: &d.id,
            detail: detail.clone(),
        };
        audit::record(&mut *tx, entry, now).await?;
        tx.commit().await?;
        Ok(true)
    })
    .await?;
    if !created {
        return Err(AppError::conflict("this delivery is being re-sent or already reached its destination"));
    }
    let (st, resend_id, delivery_id) = (state.clone(), id.clone(), d.id.clone());
    state.executor.submit_resend(&id, async move {
        let settings = destinations::settings(&st);
        let out = send_recorded(&st, &stored.destination, &input, &settings, &delivery_id, Some(&resend_id), first).await;
        let o = deliveries::Outcome {
            status: out.status,
            error: out.error.as_deref(),
            response_id: out.response_id.as_deref(),
            now: st.clock.now_ms(),
        };
        match retry_transient("ledger.resend_finish", || deliveries::finish_resend(&st.db.pool, &resend_id, &o)).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(event = "delivery.outcome_late", resend.id = %resend_id, status = %out.status, "the re-send was settled as unknown meanwhile; it stays so"),
            Err(e) => tracing::error!(event = "delivery.record_failed", resend.id = %resend_id, error.message = %e, "could not record a re-send's outcome"),
        }
    });
    Ok(id)
}

/// What the run's deliveries carried, rebuilt from its immutable record (same delivery id).
async fn rebuild_input(
    state: &AppState,
    run: &store::runs::RunRow,
    delivery_id: &str,
    kind: &str,
) -> Result<DeliveryInput, AppError> {
    let inputs: serde_json::Value = serde_json::from_str(&run.inputs).unwrap_or_default();
    let sections: Vec<serde_json::Value> =
        run.sections.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let narrative: Option<Narrative> = run.narrative.as_deref().and_then(|n| serde_json::from_str(n).ok());
    let tables = super::history::recorded_tables(run.sections.as_deref());
    let mut artifacts = Vec::new();
    for meta in store::artifacts::list_for_runs(&state.db.pool, std::slice::from_ref(&run.id)).await? {
        let Some((_, _, Some(bytes))) = store::artifacts::get(&state.db.pool, &run.id, &meta.format).await? else {
            return Err(AppError::conflict(format!(
                "the run's {} file was pruned by the retention setting, so it cannot be re-sent",
                meta.format
            )));
        };
        let expires = state.clock.now_ms() + super::runs::LINK_TTL_MS;
        artifacts.push(Artifact {
            download_url: format!(
                "{}/api/v1/reports/runs/{}/artifacts/{}?{}",
                state.config.public_url,
                run.id,
                meta.format,
                super::runs::sign_link(state, &run.id, &meta.format, expires)?
            ),
            format: meta.format,
            filename: meta.filename,
            media_type: meta.media_type,
            bytes: Arc::new(bytes),
            sha256: meta.sha256,
        });
    }
    let mut input = DeliveryInput {
        delivery_id: delivery_id.into(),
        run_id: run.id.clone(),
        tenant_id: run.tenant_id.clone(),
        template_id: run.template_id.clone(),
        template_name: inputs["template"]["name"].as_str().unwrap_or_default().to_string(),
        schedule_id: run.schedule_id.clone(),
        status: RunStatus::Succeeded,
        period: sections.first().and_then(|s| s["period"].as_str()).unwrap_or_default().to_string(),
        generated_at: run.generated_at.clone().unwrap_or_default(),
        narrative,
        sections: sections
            .iter()
            .skip(1)
            .map(|s| SectionSummary {
                id: s["id"].as_str().unwrap_or_default().into(),
                title: s["title"].as_str().unwrap_or_default().into(),
                row_count: s["rowCount"].as_u64().unwrap_or(0) as usize,
            })
            .collect(),
        // The charts as the first delivery drew them: from the tables the run recorded.
        kpis: tables.iter().find(|t| t.col("chip").is_some()).map(crate::engine::render::kpi_lines).unwrap_or_default(),
        headline_chart: None,
        charts: if super::runs::charts_wanted(state, std::iter::once(kind)) {
            super::runs::chart_images(&tables).await
        } else {
            Vec::new()
        },
        artifacts,
        run_url: format!("{}/reports/runs/{}", state.config.public_url, run.id),
        is_test: false,
    };
    input.headline_chart = super::runs::headline_chart(state, &run.id, &input.charts);
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_delivery_task_that_panics_never_stops_its_siblings() {
        let done = Arc::new(AtomicUsize::new(0));
        let mut tasks = JoinSet::new();
        tasks.spawn(async { panic!("an adapter bug") });
        for _ in 0..3 {
            let done = done.clone();
            tasks.spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(join_independent(tasks).await, 1, "the panic is counted");
        assert_eq!(done.load(Ordering::SeqCst), 3, "every sibling finished its delivery");
    }
}
