//! Artifact retention (`NARRATE_ARTIFACT_RETENTION_DAYS`): at most hourly per process, in a task
//! of its own (never inside a tick), old artifacts lose their bytes in batches of
//! [`PRUNE_BATCH`] — each a short statement, so claims and deliveries never wait behind one long
//! write. Run records, sizes and checksums stay. Every tick (built-in or external) starts it when
//! due, so installs without the built-in ticker prune too.

use crate::engine::db::retry_transient;
use crate::engine::store::artifacts;
use crate::engine::AppState;
use std::sync::atomic::Ordering;

/// Artifacts pruned per statement.
pub const PRUNE_BATCH: i64 = 200;

/// Starts a prune in the background when retention is on and the last one is an hour old.
pub fn start_if_due(state: &AppState) {
    let days = state.config.artifact_retention_days;
    let now = state.clock.now_ms();
    let last = state.last_prune.load(Ordering::Relaxed);
    if days == 0 || (last != 0 && now - last < 3_600_000) {
        return;
    }
    if state.last_prune.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return; // another tick of this process started it
    }
    let state = state.clone();
    tokio::spawn(async move {
        match prune(&state, days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(event = "retention.pruned", artifacts = n, days, "pruned artifact bytes"),
            Err(e) => {
                state.last_prune.store(last, Ordering::Relaxed);
                tracing::warn!(event = "retention.failed", error.message = %e, "artifact pruning failed; retried at the next tick");
            }
        }
    });
}

/// Prunes the bytes of artifacts older than `days`, batch by batch; returns how many.
pub async fn prune(state: &AppState, days: i64) -> Result<u64, sqlx::Error> {
    let now = state.clock.now_ms();
    let before = now - days * 86_400_000;
    let mut total = 0;
    loop {
        let n = retry_transient("retention.prune", || artifacts::prune_batch(&state.db.pool, before, now, PRUNE_BATCH))
            .await?;
        total += n;
        if n < PRUNE_BATCH as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
