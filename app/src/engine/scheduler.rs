//! The scheduler (PRODUCT §7): a tick finds due schedules, claims each with one conditional
//! UPDATE (its `next_run_at` still equals what was read), re-anchors `next_run_at` to the next
//! slot after the firing time (so downtime fires once, never a burst), inserts the run under the
//! unique (schedule, slot) key and executes it. Any number of ticks — the built-in ticker on every
//! replica, external `POST /api/cron/tick` calls — may overlap: only one claim per slot wins.
//! Runs whose process died (lease expired) are finished as failed ("abandoned") and never resent.

use super::cron::{parse_zone, CronSpec};
use super::db::{get_i64, get_str};
use super::runs::{self, Start};
use super::{templates, AppState};
use crate::model::AppError;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Most runs a tick executes at once.
pub const MAX_CONCURRENT_RUNS: usize = 8;
/// How long a tick waits for its runs before answering (they go on in the background).
pub const TICK_BUDGET: Duration = Duration::from_secs(50);

/// What a tick did (`POST /api/cron/tick` answers it).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TickCounts {
    /// Schedules due at the tick.
    pub due: u64,
    /// Claimed by this tick (the rest were claimed by a concurrent tick).
    pub claimed: u64,
    /// Runs that succeeded.
    pub succeeded: u64,
    /// Runs that partially delivered.
    pub partial: u64,
    /// Runs that failed.
    pub failed: u64,
    /// Due schedules not run: claimed elsewhere, parked, or still running past the budget.
    pub skipped: u64,
    /// Tick duration.
    pub duration_ms: u64,
}

/// Finishes runs whose lease expired (their process died) as failed; returns how many.
pub async fn finish_abandoned(state: &AppState) -> Result<u64, AppError> {
    let now = state.clock.now_ms();
    let r = sqlx::query(
        "UPDATE report_runs SET status = 'failed', phase = 'finished', finished_at = $1, lease_until = NULL, \
         error = 'abandoned: the process running it stopped before it finished (lease expired); deliveries already made are not repeated' \
         WHERE (status = 'running' AND lease_until < $1) OR (status = 'queued' AND queued_at < $2)",
    )
    .bind(now)
    .bind(now - runs::lease_ms(state))
    .execute(&state.db.pool)
    .await?;
    if r.rows_affected() > 0 {
        tracing::warn!(event = "scheduler.abandoned", count = r.rows_affected(), "runs finished as abandoned");
    }
    Ok(r.rows_affected())
}

struct Due {
    id: String,
    tenant_id: String,
    tenant_name: String,
    template_id: String,
    cron: String,
    timezone: String,
    next_run_at: i64,
}

async fn due(state: &AppState, now: i64) -> Result<Vec<Due>, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.tenant_id, n.name AS tenant_name, s.template_id, s.cron, s.timezone, s.next_run_at FROM report_schedules s \
         JOIN report_templates t ON t.id = s.template_id JOIN tenants n ON n.id = s.tenant_id \
         WHERE s.enabled = 1 AND t.enabled = 1 AND s.next_run_at IS NOT NULL AND s.next_run_at <= $1 ORDER BY s.next_run_at, s.id",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Due {
            id: get_str(r, "id"),
            tenant_id: get_str(r, "tenant_id"),
            tenant_name: get_str(r, "tenant_name"),
            template_id: get_str(r, "template_id"),
            cron: get_str(r, "cron"),
            timezone: get_str(r, "timezone"),
            next_run_at: get_i64(r, "next_run_at"),
        })
        .collect())
}

async fn park(state: &AppState, id: &str, reason: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE report_schedules SET next_run_at = NULL, parked_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    tracing::warn!(event = "scheduler.parked", schedule.id = %id, reason = %reason, "schedule parked");
    Ok(())
}

/// Claims a due schedule: re-anchors `next_run_at` from `now` only if it still equals `seen`.
async fn claim(state: &AppState, id: &str, seen: i64, next: i64) -> Result<bool, AppError> {
    let r = sqlx::query("UPDATE report_schedules SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3")
        .bind(next)
        .bind(id)
        .bind(seen)
        .execute(&state.db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// One tick.
pub async fn tick(state: &AppState) -> Result<TickCounts, AppError> {
    let started = std::time::Instant::now();
    let now = state.clock.now_ms();
    finish_abandoned(state).await?;
    apply_retention(state, now).await;
    let due = due(state, now).await?;
    let mut counts = TickCounts { due: due.len() as u64, ..TickCounts::default() };
    let sem = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_RUNS));
    let mut tasks = tokio::task::JoinSet::new();
    let now_dt = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    for d in due {
        let next = match (CronSpec::parse(&d.cron), parse_zone(&d.timezone)) {
            (Ok(spec), Ok(tz)) => spec.next_after(now_dt, tz),
            (Err(e), _) => {
                park(state, &d.id, &format!("invalid cron expression: {e}")).await?;
                counts.skipped += 1;
                continue;
            }
            (_, Err(e)) => {
                park(state, &d.id, &e).await?;
                counts.skipped += 1;
                continue;
            }
        };
        let Some(next) = next else {
            park(state, &d.id, "the cron expression never fires again").await?;
            counts.skipped += 1;
            continue;
        };
        if !claim(state, &d.id, d.next_run_at, next.timestamp_millis()).await? {
            counts.skipped += 1;
            continue;
        }
        counts.claimed += 1;
        crate::engine::metrics::tick_lag(now - d.next_run_at);
        let template = match templates::get(state, &d.tenant_id, &d.template_id).await {
            Ok(t) => t,
            Err(_) => {
                counts.skipped += 1;
                continue;
            }
        };
        let start = Start {
            template: &template,
            schedule_id: Some(&d.id),
            trigger: "schedule",
            triggered_by: "scheduler",
            scheduled_for: Some(d.next_run_at),
        };
        let Some(run_id) = runs::enqueue(state, &d.tenant_id, start).await? else {
            counts.skipped += 1;
            continue;
        };
        tracing::info!(event = "scheduler.claimed", schedule.id = %d.id, run.id = %run_id, tenant.id = %d.tenant_id, lag_ms = now - d.next_run_at, "schedule fired");
        let (state, sem) = (state.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            runs::execute(&state, &d.tenant_id, &d.tenant_name, &run_id).await
        });
    }
    let deadline = tokio::time::Instant::now() + TICK_BUDGET;
    loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(Ok(Ok(status)))) => match status.as_str() {
                "succeeded" => counts.succeeded += 1,
                "partial" => counts.partial += 1,
                _ => counts.failed += 1,
            },
            Ok(Some(_)) => counts.failed += 1,
            Ok(None) => break,
            Err(_) => {
                // The budget is spent: the remaining runs go on in the background.
                counts.skipped += tasks.len() as u64;
                tasks.detach_all();
                break;
            }
        }
    }
    counts.duration_ms = started.elapsed().as_millis() as u64;
    Ok(counts)
}

/// Prunes artifact bytes past `NARRATE_ARTIFACT_RETENTION_DAYS`, at most once an hour per process.
/// Every tick (built-in or external) gets here, so installs without the built-in ticker prune too.
/// A failure is logged and retried at the next tick; it never holds up due schedules.
async fn apply_retention(state: &AppState, now: i64) {
    use std::sync::atomic::Ordering;
    let days = state.config.artifact_retention_days;
    let last = state.last_prune.load(Ordering::Relaxed);
    if days == 0 || (last != 0 && now - last < 3_600_000) {
        return;
    }
    if state.last_prune.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return; // another tick of this process is pruning
    }
    match runs::prune(state, days).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(event = "retention.pruned", artifacts = n, days, "pruned artifact bytes"),
        Err(e) => {
            state.last_prune.store(last, Ordering::Relaxed);
            tracing::warn!(event = "retention.failed", error.message = %e.message, "artifact pruning failed");
        }
    }
}

/// The built-in ticker: ticks at the start of every minute until `stop` fires.
pub async fn run_ticker(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    tracing::info!(event = "scheduler.started", "built-in ticker started");
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let wait = 60_000 - now.rem_euclid(60_000) + 50;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            _ = stop.changed() => break,
        }
        match tick(&state).await {
            Ok(c) if c.due > 0 => tracing::info!(
                event = "scheduler.tick",
                due = c.due,
                claimed = c.claimed,
                succeeded = c.succeeded,
                failed = c.failed,
                duration_ms = c.duration_ms,
                "tick"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(event = "scheduler.tick_failed", error.message = %e.message, "tick failed"),
        }
        state.last_tick.store(state.clock.now_ms(), std::sync::atomic::Ordering::Relaxed);
    }
    tracing::info!(event = "scheduler.stopped", "built-in ticker stopped");
}
