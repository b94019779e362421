//! A tick (PRODUCT §7): sweep lapsed leases, find due schedules, and for each, in one
//! transaction, claim it (one conditional update: its `next_run_at` still equals what was read,
//! re-anchored to the next slot after now, so downtime fires once, never a burst) and insert the
//! slot's run under the unique (schedule, slot) key. Both or neither: a crash, a busy database or
//! a failed read in between leaves the slot due for the next tick, with the reason logged and
//! shown on the schedule. Claimed runs go to the process's executor and outlive the tick: an
//! external caller that hangs up cancels nothing. Any number of ticks — the built-in ticker on
//! every replica, external `POST /api/cron/tick` calls — may overlap: one claim per slot wins.

use super::cron::{parse_zone, CronSpec};
use super::executor::{Done, RunRef};
use super::leases;
use super::runs::inputs;
use crate::engine::db::retry_transient;
use crate::engine::store::{self, schedules};
use crate::engine::{new_id, templates, AppState};
use crate::model::runs::{RunStatus, Trigger};
use crate::model::AppError;
use serde::Serialize;
use std::time::Duration;
use tokio::sync::watch;

/// What a tick did (`POST /api/cron/tick` answers it).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TickCounts {
    /// Schedules due at the tick.
    pub due: u64,
    /// Claimed by this tick (their runs are queued on this server).
    pub claimed: u64,
    /// Claimed runs that had succeeded when the tick answered.
    pub succeeded: u64,
    /// … had partially delivered.
    pub partial: u64,
    /// … had failed.
    pub failed: u64,
    /// … had finished without sending: their report's send condition did not hold.
    pub not_sent: u64,
    /// Due schedules not run by this tick: claimed by a concurrent tick, parked, or whose slot
    /// already had its run.
    pub skipped: u64,
    /// Claimed runs still queued or running when the tick answered (they go on regardless).
    pub running: u64,
    /// Due schedules whose claim failed (busy database, unreadable template): they stay due, the
    /// next tick tries again, and the schedule shows the reason.
    pub errors: u64,
    /// Tick duration.
    pub duration_ms: u64,
}

/// A tick that claimed its runs; [`Tick::wait`] follows them for a while.
pub struct Tick {
    /// The counts so far.
    pub counts: TickCounts,
    runs: Vec<watch::Receiver<Option<Done>>>,
    started: std::time::Instant,
}

impl Tick {
    /// Waits up to `budget` for the claimed runs to finish and counts their outcomes; runs not
    /// finished by then are counted as `running` (and go on).
    pub async fn wait(mut self, budget: Duration) -> TickCounts {
        let deadline = tokio::time::Instant::now() + budget;
        let mut c = std::mem::take(&mut self.counts);
        for mut rx in self.runs {
            let done = tokio::time::timeout_at(deadline, rx.wait_for(Option::is_some)).await;
            match done.ok().map(|r| r.map(|v| *v)) {
                Some(Ok(Some(Done::Finished(RunStatus::Succeeded)))) => c.succeeded += 1,
                Some(Ok(Some(Done::Finished(RunStatus::Partial)))) => c.partial += 1,
                Some(Ok(Some(Done::Finished(RunStatus::Skipped)))) => c.not_sent += 1,
                Some(Ok(Some(Done::Finished(_)))) | Some(Err(_)) => c.failed += 1,
                _ => c.running += 1,
            }
        }
        c.duration_ms = self.started.elapsed().as_millis() as u64;
        c
    }
}

/// One tick: claims every due schedule and submits the runs; answers at once (see [`Tick::wait`]).
pub async fn tick(state: &AppState) -> Result<Tick, AppError> {
    let started = std::time::Instant::now();
    let now = state.clock.now_ms();
    if let Err(e) = leases::sweep(state).await {
        tracing::warn!(event = "scheduler.sweep_failed", error.message = %e, "sweeping lapsed leases failed");
    }
    super::retention::start_if_due(state);
    let due = retry_transient("scheduler.due", || schedules::due(&state.db.pool, now)).await?;
    let mut t =
        Tick { counts: TickCounts { due: due.len() as u64, ..TickCounts::default() }, runs: Vec::new(), started };
    let now_dt = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    for d in due {
        if !state.executor.accepting() {
            // Shutting down: the rest stay due for another server (or this one after restart).
            break;
        }
        let next = match next_slot(&d, now_dt) {
            Ok(next) => next,
            Err(reason) => {
                match schedules::park(&state.db.pool, &d.id, d.next_run_at, &reason).await {
                    Ok(true) => {
                        tracing::warn!(event = "scheduler.parked", schedule.id = %d.id, tenant.id = %d.tenant_id, reason = %reason, "schedule parked")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(event = "scheduler.park_failed", schedule.id = %d.id, error.message = %e, "could not park a schedule")
                    }
                }
                t.counts.skipped += 1;
                continue;
            }
        };
        match claim(state, &d, next).await {
            Ok(Claim::Taken(run)) => {
                t.counts.claimed += 1;
                crate::engine::metrics::tick_lag(now - d.next_run_at);
                tracing::info!(event = "scheduler.claimed", schedule.id = %d.id, run.id = %run.id, tenant.id = %d.tenant_id, lag_ms = now - d.next_run_at, "schedule fired");
                t.runs.push(state.executor.submit(state, run));
            }
            Ok(Claim::Elsewhere) => t.counts.skipped += 1,
            Ok(Claim::SlotHadRun) => {
                tracing::warn!(event = "scheduler.slot_had_run", schedule.id = %d.id, slot = d.next_run_at, "the slot already had its run; moved on to the next slot");
                t.counts.skipped += 1;
            }
            Err(e) => {
                t.counts.errors += 1;
                tracing::warn!(event = "scheduler.claim_failed", schedule.id = %d.id, tenant.id = %d.tenant_id, slot = d.next_run_at, error.message = %e, "claim failed; the slot stays due and the next tick tries again");
                let why = format!(
                    "the scheduler could not start the run due at {}: {e}; it will try again at the next tick",
                    crate::engine::sources::common::iso_instant(d.next_run_at)
                );
                if let Err(e2) = schedules::set_last_error(&state.db.pool, &d.id, &why, now).await {
                    tracing::warn!(event = "scheduler.claim_failed", schedule.id = %d.id, error.message = %e2, "could not record the claim error either");
                }
            }
        }
    }
    t.counts.duration_ms = started.elapsed().as_millis() as u64;
    Ok(t)
}

fn next_slot(d: &schedules::Due, now: chrono::DateTime<chrono::Utc>) -> Result<i64, String> {
    let spec = CronSpec::parse(&d.cron).map_err(|e| format!("invalid cron expression: {e}"))?;
    let tz = parse_zone(&d.timezone)?;
    spec.next_after(now, tz).map(|t| t.timestamp_millis()).ok_or_else(|| "the cron expression never fires again".into())
}

enum Claim {
    Taken(RunRef),
    Elsewhere,
    SlotHadRun,
}

/// Claims a due schedule and inserts its run, in one transaction.
async fn claim(state: &AppState, d: &schedules::Due, next: i64) -> Result<Claim, String> {
    let t = templates::get(state, &d.tenant_id, &d.template_id).await.map_err(|e| e.message)?;
    let snapshot = inputs(&t, Some(&d.id));
    let (id, now) = (new_id(), state.clock.now_ms());
    let owner = state.executor.leases().owner().to_string();
    let run = store::runs::NewRun {
        id: &id,
        tenant_id: &d.tenant_id,
        template_id: &d.template_id,
        schedule_id: Some(&d.id),
        trigger: Trigger::Schedule,
        triggered_by: "scheduler",
        scheduled_for: Some(d.next_run_at),
        inputs: &snapshot,
        now,
        owner: &owner,
        lease_until: now + state.config.run_lease_secs * 1000,
    };
    let outcome = retry_transient("scheduler.claim", || async {
        let mut tx = state.db.pool.begin().await?;
        if !schedules::claim(&mut tx, &d.id, d.next_run_at, next).await? {
            tx.rollback().await?;
            return Ok(Claim::Elsewhere);
        }
        let inserted = store::runs::insert_queued(&mut tx, &run).await?;
        tx.commit().await?;
        Ok(if inserted {
            Claim::Taken(RunRef { id: id.clone(), tenant_id: d.tenant_id.clone(), tenant_name: d.tenant_name.clone() })
        } else {
            Claim::SlotHadRun
        })
    })
    .await;
    outcome.map_err(|e: sqlx::Error| {
        tracing::debug!(error.message = %e, "claim transaction failed");
        if crate::engine::db::is_busy(&e) {
            "the database was busy".to_string()
        } else {
            "a database error".to_string()
        }
    })
}
