//! The built-in ticker (`NARRATE_SCHEDULER=internal`), supervised: each tick runs in a task of its
//! own, so a panic or an error is logged and the next minute ticks again. Its health is visible:
//! `/metrics` exposes the last good tick, and `/healthz` answers 503 with the reason once the
//! ticker has not ticked for [`STALE_AFTER_MS`].

use super::tick;
use crate::engine::AppState;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The ticker counts as stale after three minutes without a good tick.
pub const STALE_AFTER_MS: i64 = 180_000;

/// When the ticker started and last ticked well (epoch ms, by the state's clock; 0 = never).
#[derive(Debug, Default)]
pub struct TickerHealth {
    started: AtomicI64,
    last_tick: AtomicI64,
    failures: AtomicI64,
}

impl TickerHealth {
    /// Marks the ticker started.
    pub fn started(&self, now: i64) {
        self.started.store(now, Ordering::Relaxed);
    }
    /// Records a good tick.
    pub fn ticked(&self, now: i64) {
        self.last_tick.store(now, Ordering::Relaxed);
    }
    /// The last good tick, epoch ms (0 = never).
    pub fn last_tick(&self) -> i64 {
        self.last_tick.load(Ordering::Relaxed)
    }
    /// Ticks that failed or panicked since start.
    pub fn failures(&self) -> i64 {
        self.failures.load(Ordering::Relaxed)
    }
    /// Why the built-in ticker is unhealthy at `now`, if it is (None when it never started: the
    /// scheduler is external).
    pub fn stale(&self, now: i64) -> Option<String> {
        let started = self.started.load(Ordering::Relaxed);
        if started == 0 {
            return None;
        }
        let since = self.last_tick().max(started);
        (now - since > STALE_AFTER_MS).then(|| {
            format!(
                "the built-in scheduler has not ticked for {} s (last good tick: {})",
                (now - since) / 1000,
                match self.last_tick() {
                    0 => "never".to_string(),
                    t => crate::engine::sources::common::iso_instant(t),
                }
            )
        })
    }
}

/// Ticks at the start of every minute until `stop` fires.
pub async fn run(state: AppState, stop: tokio::sync::watch::Receiver<bool>) {
    let every = || {
        let now = chrono::Utc::now().timestamp_millis();
        Duration::from_millis((60_000 - now.rem_euclid(60_000) + 50) as u64)
    };
    supervise(state, stop, every, |s| async move { tick::tick(&s).await.map(|t| t.counts) }).await
}

/// The supervision loop: waits `wait()`, runs `tick` in its own task, records the result, and goes
/// on whatever happened — an error or a panic is logged and counted, never the end of scheduling.
pub async fn supervise<F, Fut>(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
    wait: impl Fn() -> Duration,
    tick: F,
) where
    F: Fn(AppState) -> Fut,
    Fut: Future<Output = Result<tick::TickCounts, crate::model::AppError>> + Send + 'static,
{
    tracing::info!(event = "scheduler.started", "built-in ticker started");
    state.ticker.started(state.clock.now_ms());
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait()) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        match tokio::spawn(tick(state.clone())).await {
            Ok(Ok(c)) => {
                state.ticker.ticked(state.clock.now_ms());
                state.last_tick.store(state.clock.now_ms(), Ordering::Relaxed);
                if c.due > 0 {
                    tracing::info!(
                        event = "scheduler.tick",
                        due = c.due,
                        claimed = c.claimed,
                        skipped = c.skipped,
                        errors = c.errors,
                        duration_ms = c.duration_ms,
                        "tick"
                    );
                }
            }
            Ok(Err(e)) => {
                state.ticker.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(event = "scheduler.tick_failed", error.message = %e.message, "tick failed; the next minute ticks again");
            }
            Err(e) => {
                state.ticker.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    event = "scheduler.tick_panicked",
                    panicked = e.is_panic(),
                    "a tick panicked; the next minute ticks again"
                );
            }
        }
    }
    tracing::info!(event = "scheduler.stopped", "built-in ticker stopped");
}
