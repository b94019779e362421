//! Ownership and leases. A run (and a re-send) belongs to the process that created it — its
//! instance id — from the moment it is queued until it finishes, and carries a lease in the
//! database. The process renews the leases of everything it holds from one place, the keeper,
//! which never gives up after an error. What a process holds is what its [`LeaseGuard`]s say:
//! a guard lives inside the task running the run, so when that task ends without finishing the
//! run (a panic, an abort), the guard's drop stops the renewal at once and hands the run to the
//! keeper, which finishes it as failed with the reason. Only a lapsed lease makes a run
//! abandoned — never time spent waiting in a queue:
//! - a running run whose lease lapsed is finished as `failed` ("abandoned"), its delivery in
//!   flight `unknown` and its deliveries never started `failed` ("not sent");
//! - a queued run whose lease lapsed never started, so a live process adopts and runs it (within
//!   [`ADOPT_WINDOW_MS`] of being queued; older ones fail, as a late report would mislead).

use super::executor::RunRef;
use crate::engine::db::retry_transient;
use crate::engine::store::runs::Hold;
use crate::engine::store::{deliveries, runs, schedules};
use crate::engine::AppState;
use crate::model::runs::RunStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// A queued run whose owner stopped is adopted by another process only within this long of being
/// queued; past it, it fails ("abandoned before it started").
pub const ADOPT_WINDOW_MS: i64 = 3_600_000;

/// The reason given to a running run whose owner stopped renewing its lease.
pub const ABANDONED: &str = "abandoned: the server running it stopped before it finished (lease expired); deliveries already made are not repeated";

/// The reason given to a run still in flight when its server's shutdown grace period ended.
pub const INTERRUPTED: &str = "interrupted by shutdown: the server stopped before the run finished (grace period over)";

/// What a lease covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A report run.
    Run,
    /// A re-send of one delivery.
    Resend,
}

/// The runs and re-sends this process holds, by id.
pub struct Leases {
    owner: Arc<str>,
    live: Mutex<HashMap<String, Held>>,
    dropped: Mutex<Vec<(String, Held)>>,
    wake: Notify,
}

impl Leases {
    /// An empty registry for the process `owner`.
    pub fn new(owner: &str) -> Arc<Leases> {
        Arc::new(Leases { owner: owner.into(), live: Mutex::default(), dropped: Mutex::default(), wake: Notify::new() })
    }

    /// This process's instance id.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Starts holding `id`: its lease is renewed until the guard is settled or dropped.
    pub fn hold(self: &Arc<Self>, id: &str, kind: Held) -> LeaseGuard {
        self.live.lock().expect("leases").insert(id.to_string(), kind);
        LeaseGuard { leases: self.clone(), id: id.to_string(), kind, settled: false }
    }

    /// Whether this process holds `id` right now.
    pub fn holds(&self, id: &str) -> bool {
        self.live.lock().expect("leases").contains_key(id)
    }

    /// The ids held, of one kind.
    pub fn held(&self, kind: Held) -> Vec<String> {
        self.live.lock().expect("leases").iter().filter(|(_, k)| **k == kind).map(|(id, _)| id.clone()).collect()
    }

    /// How many runs and re-sends are held.
    pub fn len(&self) -> usize {
        self.live.lock().expect("leases").len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take_dropped(&self) -> Vec<(String, Held)> {
        std::mem::take(&mut *self.dropped.lock().expect("leases"))
    }
}

/// Holds one lease while the task that owns it lives. Settle it when the run (or re-send) has
/// been finished or handed over; dropping it unsettled means the task died.
pub struct LeaseGuard {
    leases: Arc<Leases>,
    id: String,
    kind: Held,
    settled: bool,
}

impl LeaseGuard {
    /// The run or re-send is finished (or handed over): stop renewing, nothing to clean up.
    pub fn settle(mut self) {
        self.settled = true;
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.leases.live.lock().expect("leases").remove(&self.id);
        if !self.settled {
            self.leases.dropped.lock().expect("leases").push((self.id.clone(), self.kind));
            self.leases.wake.notify_one();
        }
    }
}

/// The keeper: renews the leases this process holds every [`crate::engine::Config::lease_renewal`]
/// and finishes what died unsettled, and — in a loop of its own, so a long sweep never delays a
/// renewal — sweeps lapsed leases of any process. An error is logged and the next round tries
/// again; it stops only when `stop` fires (after the shutdown drain).
pub async fn keep(state: AppState, stop: tokio::sync::watch::Receiver<bool>) {
    let sweeper = tokio::spawn(sweep_loop(state.clone(), stop.clone()));
    renew_loop(state, stop).await;
    let _ = sweeper.await;
}

async fn renew_loop(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = state.config.lease_renewal();
    let leases = state.executor.leases().clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = leases.wake.notified() => {}
            _ = stop.changed() => break,
        }
        let round = tokio::spawn({
            let state = state.clone();
            async move {
                if let Err(e) = renew(&state).await {
                    tracing::warn!(event = "leases.renew_failed", error.message = %e, "renewing run leases failed; retrying next round");
                }
                settle_dropped(&state).await;
            }
        });
        if let Err(e) = round.await {
            tracing::error!(
                event = "leases.renew_panicked",
                panicked = e.is_panic(),
                "a renewal round panicked; retrying next round"
            );
        }
    }
}

async fn sweep_loop(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = state.config.lease_renewal();
    let mut last_purge: Option<i64> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => break,
        }
        // Each round in a task of its own: a panic is logged, and the next round sweeps again.
        let round = tokio::spawn({
            let state = state.clone();
            async move { sweep(&state).await }
        });
        match round.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(event = "leases.sweep_failed", error.message = %e, "sweeping lapsed leases failed; retrying next round")
            }
            Err(e) => tracing::error!(
                event = "leases.sweep_panicked",
                panicked = e.is_panic(),
                "a sweep panicked; retrying next round"
            ),
        }
        // Housekeeping rides along, hourly: expired sessions are deleted.
        let now = state.clock.now_ms();
        if last_purge.is_none_or(|t| now - t >= 3_600_000) {
            match crate::engine::store::sessions::delete_expired(&state.db, now).await {
                Ok(n) => {
                    last_purge = Some(now);
                    if n > 0 {
                        tracing::info!(event = "sessions.purged", count = n, "expired sessions deleted");
                    }
                }
                Err(e) => {
                    tracing::warn!(event = "sessions.purge_failed", error.message = %e, "purging expired sessions failed")
                }
            }
        }
    }
}

/// Renews the leases this process holds — of runs, those within
/// [`Config::lease_renew_within_ms`](crate::engine::config::Config::lease_renew_within_ms) of
/// their end — and returns how many rows were renewed.
pub async fn renew(state: &AppState) -> Result<u64, sqlx::Error> {
    let leases = state.executor.leases();
    let now = state.clock.now_ms();
    let until = now + state.config.run_lease_secs * 1000;
    let ending_before = now.saturating_add(state.config.lease_renew_within_ms());
    let run_ids = leases.held(Held::Run);
    let resend_ids = leases.held(Held::Resend);
    let pool = &state.db.pool;
    let mut n = 0;
    if !run_ids.is_empty() {
        n += retry_transient("leases.renew", || runs::renew(pool, leases.owner(), &run_ids, until, ending_before))
            .await?;
    }
    if !resend_ids.is_empty() {
        n += retry_transient("leases.renew", || deliveries::renew_resends(pool, leases.owner(), &resend_ids, until))
            .await?;
    }
    Ok(n)
}

/// Finishes what this process's tasks dropped unsettled (a panic or an abort).
async fn settle_dropped(state: &AppState) {
    let now = state.clock.now_ms();
    for (id, kind) in state.executor.leases().take_dropped() {
        let result = match kind {
            Held::Run => {
                // Tasks aborted by the shutdown drain land here too; they were interrupted.
                let reason = if state.executor.accepting() {
                    "failed: the run stopped unexpectedly (an internal error); deliveries already made are not repeated"
                } else {
                    INTERRUPTED
                };
                stop_owned_run(state, &id, reason, now).await.map(|_| ())
            }
            Held::Resend => deliveries::settle_resend(&state.db.pool, &id, now).await.map(|_| ()),
        };
        match result {
            Ok(()) => {
                tracing::error!(event = "run.task_died", run.id = %id, "a run's task ended without finishing it; finished as failed")
            }
            Err(e) => {
                tracing::error!(event = "run.task_died", run.id = %id, error.message = %e, "a run's task died and could not be recorded; its lease will lapse")
            }
        }
    }
}

/// Ends a run this process owns and no longer runs: a running one fails with `reason` (its
/// deliveries settled), a queued one is released for adoption. True when something changed.
pub async fn stop_owned_run(state: &AppState, id: &str, reason: &str, now: i64) -> Result<bool, sqlx::Error> {
    let owner = state.executor.leases().owner().to_string();
    if retry_transient("runs.release", || runs::release(&state.db.pool, id, &owner)).await? {
        return Ok(true);
    }
    fail_run(state, id, RunStatus::Running, reason, now, Hold::Owner(&owner)).await
}

/// Fails a queued or running run with `reason` in one transaction: the run is locked first (so
/// no delivery of it can start or be created meanwhile), its unfinished deliveries are settled
/// (in flight → unknown, never started → failed), the run finished, its schedule's last status
/// set — only while `hold` allows (its owner, or anyone once its lease lapsed). False when the run
/// moved on meanwhile (finished, renewed, adopted).
pub async fn fail_run(
    state: &AppState,
    id: &str,
    from: RunStatus,
    reason: &str,
    now: i64,
    hold: Hold<'_>,
) -> Result<bool, sqlx::Error> {
    retry_transient("runs.fail", || async {
        let mut tx = state.db.pool.begin().await?;
        if !runs::lock(&mut tx, id, from, hold).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let settle_reason = if reason.contains("shutdown") { "the server shut down" } else { "the run stopped" };
        deliveries::settle_unfinished(&mut tx, id, settle_reason, now).await?;
        if !runs::fail(&mut tx, id, from, reason, now, hold).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        schedules::set_last_status(&mut tx, id, RunStatus::Failed.as_str(), now).await?;
        tx.commit().await?;
        crate::engine::metrics::run_finished(RunStatus::Failed.as_str());
        Ok(true)
    })
    .await
}

/// A running run whose owner stopped renewing: failed ("abandoned").
async fn abandon(state: &AppState, e: &runs::Expired, now: i64) -> Result<bool, sqlx::Error> {
    let done = fail_run(state, &e.id, RunStatus::Running, ABANDONED, now, Hold::LapsedBefore(now)).await?;
    if done {
        tracing::warn!(event = "run.abandoned", run.id = %e.id, tenant.id = %e.tenant_id, "a run's server stopped; finished as failed");
    }
    Ok(done)
}

/// A queued run nobody started within the adoption window: failed.
async fn expire(state: &AppState, e: &runs::Expired, now: i64) -> Result<bool, sqlx::Error> {
    let why = "abandoned before it started: its server stopped and no server took it over within an hour";
    let done = fail_run(state, &e.id, RunStatus::Queued, why, now, Hold::LapsedBefore(now)).await?;
    if done {
        tracing::warn!(event = "run.expired", run.id = %e.id, tenant.id = %e.tenant_id, "a queued run was never started; failed");
    }
    Ok(done)
}

/// A queued run whose owner stopped: taken over and executed here.
async fn adopt(state: &AppState, e: runs::Expired, now: i64) -> Result<bool, sqlx::Error> {
    let leases = state.executor.leases();
    let until = now + state.config.run_lease_secs * 1000;
    let done = runs::adopt(&state.db.pool, &e.id, leases.owner(), now, until).await?;
    if done {
        tracing::info!(event = "run.adopted", run.id = %e.id, tenant.id = %e.tenant_id, "took over a queued run whose server stopped");
        state.executor.submit(state, RunRef { id: e.id, tenant_id: e.tenant_id, tenant_name: e.tenant_name });
    }
    Ok(done)
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Running runs finished as abandoned.
    pub abandoned: u64,
    /// Queued runs adopted by this process.
    pub adopted: u64,
    /// Queued runs too old to adopt, failed.
    pub expired: u64,
}

/// Handles runs whose lease lapsed, whoever owned them (see the module doc). Runs this process
/// holds are skipped whatever their lease says: they are alive, and the keeper renews them.
pub async fn sweep(state: &AppState) -> Result<Swept, sqlx::Error> {
    let now = state.clock.now_ms();
    let leases = state.executor.leases();
    let mut out = Swept::default();
    for e in runs::expired(&state.db.pool, now).await? {
        if leases.holds(&e.id) {
            continue;
        }
        let id = e.id.clone();
        let done = match e.status {
            RunStatus::Running => abandon(state, &e, now).await.map(|d| out.abandoned += u64::from(d)),
            _ if now - e.queued_at >= ADOPT_WINDOW_MS => {
                expire(state, &e, now).await.map(|d| out.expired += u64::from(d))
            }
            _ if state.executor.accepting() => adopt(state, e, now).await.map(|d| out.adopted += u64::from(d)),
            _ => Ok(()),
        };
        if let Err(err) = done {
            // One run that cannot be handled never blocks the others.
            tracing::warn!(event = "leases.sweep_row_failed", run.id = %id, error.message = %err, "could not handle a lapsed run; retried next round");
        }
    }
    for id in deliveries::expired_resends(&state.db.pool, now).await? {
        if !leases.holds(&id) {
            if let Err(err) = deliveries::settle_resend(&state.db.pool, &id, now).await {
                tracing::warn!(event = "leases.sweep_row_failed", resend.id = %id, error.message = %err, "could not settle a lapsed re-send");
            }
        }
    }
    Ok(out)
}
