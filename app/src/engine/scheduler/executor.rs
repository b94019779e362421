//! The run executor: one per process, shared by the built-in ticker, `POST /api/cron/tick`, Run
//! Now, re-sends and adoption. A submitted run lives in a task of its own, independent of whoever
//! submitted it (an HTTP caller that hangs up cancels nothing), and waits for one of
//! `NARRATE_MAX_CONCURRENT_RUNS` permits while owned and leased. On shutdown the executor stops
//! taking work, hands runs that never started to other processes, gives in-flight ones the grace
//! period, then interrupts what remains and records it (runs `failed`, sends in flight `unknown`).

use super::leases::{self, Held, LeaseGuard, Leases};
use super::runs;
use crate::engine::store::runs::Hold;
use crate::engine::store::{deliveries, runs as run_store};
use crate::engine::AppState;
use crate::model::runs::RunStatus;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// A run to execute: its id and tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    /// The run.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// The tenant's name (the report header).
    pub tenant_name: String,
}

/// How a submitted run ended, as far as this process knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// This process finished it with this status.
    Finished(RunStatus),
    /// Another process has it (adopted, abandoned meanwhile) or it was handed over at shutdown.
    Elsewhere,
}

/// The executor.
pub struct Executor {
    permits: Arc<Semaphore>,
    max: usize,
    leases: Arc<Leases>,
    closing: watch::Sender<bool>,
    tasks: Mutex<JoinSet<()>>,
}

impl Executor {
    /// An executor running at most `max` runs at once for the process `owner`.
    pub fn new(max: usize, owner: &str) -> Arc<Executor> {
        Arc::new(Executor {
            permits: Arc::new(Semaphore::new(max.max(1))),
            max: max.max(1),
            leases: Leases::new(owner),
            closing: watch::channel(false).0,
            tasks: Mutex::new(JoinSet::new()),
        })
    }

    /// The process's leases.
    pub fn leases(&self) -> &Arc<Leases> {
        &self.leases
    }

    /// Whether it still takes work (false once shutdown began).
    pub fn accepting(&self) -> bool {
        !*self.closing.borrow()
    }

    /// Runs executing now (holding a permit).
    pub fn running(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// The most runs executing at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Runs and re-sends held (executing or waiting for a permit).
    pub fn held(&self) -> usize {
        self.leases.len()
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().expect("executor tasks");
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = done {
                if e.is_panic() {
                    tracing::error!(
                        event = "executor.task_panicked",
                        "a run task panicked; its run is finished as failed"
                    );
                }
            }
        }
        tasks.spawn(task);
    }

    /// Executes a queued run this process owns, in a task of its own. The receiver tells how it
    /// ended; dropping it changes nothing. Holds the run's lease from now on.
    pub fn submit(self: &Arc<Self>, state: &AppState, run: RunRef) -> watch::Receiver<Option<Done>> {
        let guard = self.leases.hold(&run.id, Held::Run);
        let (tx, rx) = watch::channel(None);
        let (state, permits, mut closing) = (state.clone(), self.permits.clone(), self.closing.subscribe());
        self.spawn(async move {
            let permit = tokio::select! {
                biased;
                _ = closing.wait_for(|c| *c) => None,
                p = permits.acquire_owned() => p.ok(),
            };
            let done = match permit {
                Some(_permit) => runs::execute(&state, &run).await,
                None => hand_over(&state, &run.id).await,
            };
            guard.settle();
            let _ = tx.send(Some(done));
        });
        rx
    }

    /// Runs a re-send in a task of its own, holding its lease.
    pub fn submit_resend(&self, resend_id: &str, work: impl Future<Output = ()> + Send + 'static) {
        let guard: LeaseGuard = self.leases.hold(resend_id, Held::Resend);
        self.spawn(async move {
            work.await;
            guard.settle();
        });
    }

    /// Stops taking work: queued runs waiting for a permit hand themselves over, new submissions
    /// are refused by their callers (`accepting`), ticks stop claiming.
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Shutdown: stops taking work at once, hands runs that never started to other processes,
    /// waits up to `grace` for the rest, then aborts what remains and records it. Returns
    /// (finished in time, interrupted).
    pub async fn drain(&self, state: &AppState, grace: Duration) -> (usize, usize) {
        let _ = self.closing.send(true);
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("executor tasks"));
        let deadline = tokio::time::Instant::now() + grace;
        let mut finished = 0;
        loop {
            match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Ok(Some(_)) => finished += 1,
                Ok(None) => break,
                Err(_) => {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        let interrupted = interrupt_owned(state).await;
        (finished, interrupted)
    }
}

/// A run that never started while its process shuts down: released for another process.
async fn hand_over(state: &AppState, run_id: &str) -> Done {
    let owner = state.executor.leases().owner().to_string();
    match crate::engine::db::retry_transient("runs.release", || run_store::release(&state.db.pool, run_id, &owner))
        .await
    {
        Ok(_) => {
            tracing::info!(event = "run.handed_over", run.id = %run_id, "shutting down: the queued run is left for another server")
        }
        Err(e) => {
            tracing::warn!(event = "run.handed_over", run.id = %run_id, error.message = %e, "could not release a queued run; its lease will lapse")
        }
    }
    Done::Elsewhere
}

/// Records what this process still holds after its tasks were stopped: running runs fail
/// ("interrupted by shutdown") with their sends in flight `unknown`; queued runs are released;
/// re-sends in flight become `unknown`. Returns how many runs were interrupted.
async fn interrupt_owned(state: &AppState) -> usize {
    let owner = state.executor.leases().owner().to_string();
    let now = state.clock.now_ms();
    let pool = &state.db.pool;
    let mut interrupted = 0;
    match run_store::owned_unfinished(pool, &owner).await {
        Ok(list) => {
            for (id, status) in list {
                let reason = leases::INTERRUPTED;
                let r = match status {
                    RunStatus::Queued => run_store::release(pool, &id, &owner).await,
                    _ => leases::fail_run(state, &id, RunStatus::Running, reason, now, Hold::Owner(&owner)).await,
                };
                match r {
                    Ok(true) if status == RunStatus::Running => {
                        interrupted += 1;
                        tracing::warn!(event = "run.interrupted", run.id = %id, "interrupted by shutdown; finished as failed");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(event = "run.interrupt_failed", run.id = %id, error.message = %e, "could not record an interrupted run; its lease will lapse")
                    }
                }
            }
        }
        Err(e) => {
            tracing::error!(event = "run.interrupt_failed", error.message = %e, "could not list the runs to interrupt")
        }
    }
    if let Ok(ids) = deliveries::owned_resends(pool, &owner).await {
        for id in ids {
            let _ = deliveries::settle_resend(pool, &id, now).await;
        }
    }
    interrupted
}
