//! A tick (PRODUCT §7): sweep lapsed leases, find due schedules, and for each, in a
//! transaction (a page of them at a time), claim it (one conditional update: its `next_run_at`
//! still equals what was read, re-anchored to the next slot after now, so downtime fires once,
//! never a burst) and insert the slot's run under the unique (schedule, slot) key. Both or
//! neither: a crash, a busy database or a failed read in between leaves the slot due for the next
//! tick, with the reason logged and shown on the schedule. Claimed runs go to the process's
//! executor and outlive the tick: an external caller that hangs up cancels nothing. Any number of
//! ticks — the built-in ticker on every replica, external `POST /api/cron/tick` calls — may
//! overlap: one claim per slot wins.

use super::cron::{parse_zone, CronSpec};
use super::executor::{Done, RunRef};
use super::leases;
use super::runs::inputs;
use crate::engine::db::{retry_transient, Dialect};
use crate::engine::store::{self, schedules};
use crate::engine::{new_id, templates, AppState};
use crate::model::reports::TemplateView;
use crate::model::runs::{RunStatus, Trigger};
use crate::model::AppError;
use serde::Serialize;
use std::time::Duration;
use tokio::sync::watch;

/// What a tick did (`POST /api/cron/tick` answers it).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TickCounts {
    /// Due schedules this tick read. Ticks running at once on PostgreSQL do not see the rows
    /// another tick is claiming at that moment, so each counts its own share.
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

/// Due schedules claimed per transaction: one commit for a page instead of one per schedule.
const CLAIM_PAGE: i64 = 100;

/// One tick: claims every due schedule and submits the runs; answers at once (see [`Tick::wait`]).
///
/// Due schedules are claimed a page at a time in slot order, each page in one transaction. On
/// PostgreSQL the page is read `FOR UPDATE SKIP LOCKED`, so several processes ticking at once
/// (a burst of schedules due in the same minute) claim disjoint pages side by side instead of
/// racing for the same rows; on SQLite, which has one writer, the transaction takes the write
/// lock before it reads. A page whose transaction fails is claimed again one schedule at a time,
/// each in its own transaction, so one bad schedule costs only its own slot (kept due, with the
/// reason shown on it).
pub async fn tick(state: &AppState) -> Result<Tick, AppError> {
    let started = std::time::Instant::now();
    let now = state.clock.now_ms();
    if let Err(e) = leases::sweep(state).await {
        tracing::warn!(event = "scheduler.sweep_failed", error.message = %e, "sweeping lapsed leases failed");
    }
    super::retention::start_if_due(state);
    let mut t = Tick { counts: TickCounts::default(), runs: Vec::new(), started };
    let now_dt = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    let mut after: Option<(i64, String)> = None;
    // Shutting down stops the claiming: the rest stay due for another server (or this one after
    // restart); a page claimed meanwhile is handed over by the executor.
    while state.executor.accepting() {
        let cursor = after.as_ref().map(|(slot, id)| (*slot, id.as_str()));
        let page = match claim_page(state, now, now_dt, cursor).await {
            Ok(page) => page,
            Err(e) if after.is_none() => return Err(e.into()),
            Err(e) => {
                tracing::warn!(event = "scheduler.due_failed", error.message = %e, "reading the next due schedules failed; they stay due for the next tick");
                break;
            }
        };
        let Some((last, _)) = page.last() else { break };
        after = Some((last.next_run_at, last.id.clone()));
        let full = page.len() as i64 == CLAIM_PAGE;
        t.counts.due += page.len() as u64;
        for (d, outcome) in page {
            t.record(state, now, &d, outcome).await;
        }
        if !full {
            break;
        }
    }
    t.counts.duration_ms = started.elapsed().as_millis() as u64;
    Ok(t)
}

impl Tick {
    /// Counts one due schedule's outcome, submits a taken run, and parks or records the reason.
    async fn record(&mut self, state: &AppState, now: i64, d: &schedules::Due, outcome: Outcome) {
        match outcome {
            Outcome::Taken(run) => {
                self.counts.claimed += 1;
                crate::engine::metrics::tick_lag(now - d.next_run_at);
                tracing::info!(event = "scheduler.claimed", schedule.id = %d.id, run.id = %run.id, tenant.id = %d.tenant_id, lag_ms = now - d.next_run_at, "schedule fired");
                self.runs.push(state.executor.submit(state, run));
            }
            Outcome::Elsewhere => self.counts.skipped += 1,
            Outcome::SlotHadRun => {
                tracing::warn!(event = "scheduler.slot_had_run", schedule.id = %d.id, slot = d.next_run_at, "the slot already had its run; moved on to the next slot");
                self.counts.skipped += 1;
            }
            Outcome::Park(reason) => {
                match schedules::park(&state.db.pool, &d.id, d.next_run_at, &reason).await {
                    Ok(true) => {
                        tracing::warn!(event = "scheduler.parked", schedule.id = %d.id, tenant.id = %d.tenant_id, reason = %reason, "schedule parked")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(event = "scheduler.park_failed", schedule.id = %d.id, error.message = %e, "could not park a schedule")
                    }
                }
                self.counts.skipped += 1;
            }
            Outcome::Failed(e) => {
                self.counts.errors += 1;
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
}

fn next_slot(d: &schedules::Due, now: chrono::DateTime<chrono::Utc>) -> Result<i64, String> {
    let spec = CronSpec::parse(&d.cron).map_err(|e| format!("invalid cron expression: {e}"))?;
    let tz = parse_zone(&d.timezone)?;
    spec.next_after(now, tz).map(|t| t.timestamp_millis()).ok_or_else(|| "the cron expression never fires again".into())
}

/// What became of one due schedule.
enum Outcome {
    /// Claimed; its run is queued here.
    Taken(RunRef),
    /// Another tick claimed it first.
    Elsewhere,
    /// Claimed, but the slot already had its run.
    SlotHadRun,
    /// It can never fire again (the reason): parked.
    Park(String),
    /// Not claimed (the reason): the slot stays due.
    Failed(String),
}

/// A due schedule ready to claim: its next slot and its run, snapshot taken.
struct Ready {
    next: i64,
    run_id: String,
    snapshot: String,
}

/// Everything a claim needs that is not a write: the next slot and the snapshot of the template
/// (`t`, as read).
fn prepare(
    d: &schedules::Due,
    now: chrono::DateTime<chrono::Utc>,
    t: Result<&TemplateView, AppError>,
) -> Result<Ready, Outcome> {
    let next = next_slot(d, now).map_err(Outcome::Park)?;
    let t = t.map_err(|e| Outcome::Failed(e.message))?;
    Ok(Ready { next, run_id: new_id(), snapshot: inputs(t, Some(&d.id)) })
}

/// In `tx`: moves the schedule to its next slot (if still at the slot read) and inserts the run.
async fn claim_in(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    d: &schedules::Due,
    ready: &Ready,
) -> Result<Outcome, sqlx::Error> {
    let now = state.clock.now_ms();
    let owner = state.executor.leases().owner().to_string();
    let run = store::runs::NewRun {
        id: &ready.run_id,
        tenant_id: &d.tenant_id,
        template_id: &d.template_id,
        schedule_id: Some(&d.id),
        trigger: Trigger::Schedule,
        triggered_by: "scheduler",
        scheduled_for: Some(d.next_run_at),
        inputs: &ready.snapshot,
        now,
        owner: &owner,
        lease_until: now + state.config.run_lease_secs * 1000,
    };
    if !schedules::claim(&mut *tx, &d.id, d.next_run_at, ready.next).await? {
        return Ok(Outcome::Elsewhere);
    }
    Ok(if store::runs::insert_queued(tx, &run).await? {
        Outcome::Taken(RunRef {
            id: ready.run_id.clone(),
            tenant_id: d.tenant_id.clone(),
            tenant_name: d.tenant_name.clone(),
        })
    } else {
        Outcome::SlotHadRun
    })
}

/// Reads and claims the next page of due schedules after `after`, in one transaction (retried
/// while the database is busy); if it fails, claims the page's schedules one by one.
async fn claim_page(
    state: &AppState,
    now: i64,
    now_dt: chrono::DateTime<chrono::Utc>,
    after: Option<(i64, &str)>,
) -> Result<Vec<(schedules::Due, Outcome)>, sqlx::Error> {
    let read = std::sync::Mutex::new(Vec::new());
    let whole = retry_transient("scheduler.claim", || claim_page_once(state, now, now_dt, after, &read)).await;
    let rows = std::mem::take(&mut *read.lock().unwrap_or_else(|p| p.into_inner()));
    match whole {
        Ok(done) => Ok(done),
        Err(e) if rows.is_empty() => Err(e),
        Err(e) => {
            tracing::debug!(error.message = %e, "claiming a page failed; claiming its schedules one by one");
            let mut out = Vec::with_capacity(rows.len());
            for d in rows {
                let t = templates::get(state, &d.tenant_id, &d.template_id).await;
                let outcome = match prepare(&d, now_dt, t.as_ref().map_err(Clone::clone)) {
                    Ok(ready) => claim_one(state, &d, &ready).await,
                    Err(outcome) => outcome,
                };
                out.push((d, outcome));
            }
            Ok(out)
        }
    }
}

async fn claim_page_once(
    state: &AppState,
    now: i64,
    now_dt: chrono::DateTime<chrono::Utc>,
    after: Option<(i64, &str)>,
    read: &std::sync::Mutex<Vec<schedules::Due>>,
) -> Result<Vec<(schedules::Due, Outcome)>, sqlx::Error> {
    let postgres = state.db.dialect == Dialect::Postgres;
    let mut tx = state.db.pool.begin().await?;
    if !postgres {
        // SQLite: take the write lock first (waiting out the busy timeout), so the page read
        // below is not a snapshot that a commit in between makes impossible to write from.
        sqlx::query("UPDATE report_schedules SET next_run_at = next_run_at WHERE 1 = 0").execute(&mut *tx).await?;
    }
    let rows = schedules::due_page(&mut tx, now, after, CLAIM_PAGE, postgres).await?;
    *read.lock().unwrap_or_else(|p| p.into_inner()) = rows.clone();
    // The page's templates (and their schedules, part of the snapshot) in two queries, not two
    // per schedule.
    let keys: Vec<(&str, &str)> = rows.iter().map(|d| (d.tenant_id.as_str(), d.template_id.as_str())).collect();
    let read_templates = templates::get_many(&mut tx, &keys).await?;
    let mut out = Vec::with_capacity(rows.len());
    for d in &rows {
        let t = read_templates.get(&d.template_id).ok_or_else(|| AppError::not_found("template"));
        let outcome = match prepare(d, now_dt, t) {
            Ok(ready) => claim_in(state, &mut tx, d, &ready).await?,
            Err(outcome) => outcome,
        };
        out.push((d.clone(), outcome));
    }
    tx.commit().await?;
    Ok(out)
}

/// Claims one due schedule and inserts its run, in a transaction of its own.
async fn claim_one(state: &AppState, d: &schedules::Due, ready: &Ready) -> Outcome {
    let outcome = retry_transient("scheduler.claim", || async {
        let mut tx = state.db.pool.begin().await?;
        let outcome = claim_in(state, &mut tx, d, ready).await?;
        if matches!(outcome, Outcome::Elsewhere) {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(outcome)
    })
    .await;
    outcome.unwrap_or_else(|e: sqlx::Error| {
        tracing::debug!(error.message = %e, "claim transaction failed");
        Outcome::Failed(if crate::engine::db::is_busy(&e) {
            "the database was busy".to_string()
        } else {
            "a database error".to_string()
        })
    })
}
