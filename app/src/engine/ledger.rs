//! The delivery ledger: one row per (run, destination), unique, so a destination is sent a run at
//! most once even if delivery is started twice (a retried tick, a restarted process). Each
//! destination is delivered independently and concurrently; every attempt is recorded; paused,
//! deleted or missing destinations are recorded as `skipped` with the reason.

use super::db::{get_i64, get_opt_str, get_str, is_unique_violation};
use super::delivery::{self, AttemptRecord, DeliveryInput, Destination, Outcome};
use super::{destinations, new_id, AppState};
use crate::model::AppError;
use serde::{Deserialize, Serialize};

/// One destination's result for a run, as runs report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRow {
    /// The ledger row id (the delivery id receivers see).
    pub id: String,
    /// The destination.
    pub destination_id: String,
    /// Its kind.
    pub kind: String,
    /// Its name at delivery time.
    pub name: String,
    /// `pending`, `delivered`, `accepted`, `failed`, `skipped`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last error or the skip reason (no secrets).
    pub error: Option<String>,
    /// The provider's response id, if any.
    pub response_id: Option<String>,
}

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

/// Resolves destination ids of the tenant into targets (paused, deleted, unknown → skipped).
pub async fn resolve(state: &AppState, tenant_id: &str, ids: &[String]) -> Result<Vec<Target>, AppError> {
    let mut out = Vec::new();
    for id in ids {
        match destinations::get(state, tenant_id, id, true).await {
            Err(e) if e.status == 404 => out.push(Target::Skip {
                id: id.clone(),
                kind: "unknown".into(),
                name: "unknown".into(),
                reason: "the destination no longer exists".into(),
            }),
            Err(e) => return Err(e),
            Ok(s) if s.deleted_at.is_some() => out.push(Target::Skip {
                id: id.clone(),
                kind: s.view.kind,
                name: s.view.name,
                reason: "the destination was deleted".into(),
            }),
            Ok(s) if !s.view.enabled => out.push(Target::Skip {
                id: id.clone(),
                kind: s.view.kind,
                name: s.view.name,
                reason: "the destination is paused".into(),
            }),
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

/// Claims the ledger row for (run, destination); None when it already exists (already sent or
/// being sent by someone else: never send twice).
#[allow(clippy::too_many_arguments)] // one row's columns; a struct would only rename them
async fn claim(
    state: &AppState,
    tenant_id: &str,
    run_id: &str,
    dest_id: &str,
    kind: &str,
    name: &str,
    status: &str,
    error: Option<&str>,
) -> Result<Option<String>, AppError> {
    let (id, now) = (new_id(), state.clock.now_ms());
    let finished = (status == "skipped").then_some(now);
    let r = sqlx::query(
        "INSERT INTO deliveries (id, tenant_id, run_id, destination_id, kind, name, status, attempts, last_error, created_at, updated_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9, $10)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(run_id)
    .bind(dest_id)
    .bind(kind)
    .bind(name)
    .bind(status)
    .bind(error)
    .bind(now)
    .bind(finished)
    .execute(&state.db.pool)
    .await;
    match r {
        Ok(_) => Ok(Some(id)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn record(state: &AppState, delivery_id: &str, outcome: &Outcome) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    for a in &outcome.attempt_log {
        record_attempt(&mut tx, delivery_id, a).await?;
    }
    sqlx::query("UPDATE deliveries SET status = $1, attempts = $2, last_error = $3, response_id = $4, updated_at = $5, finished_at = $5 WHERE id = $6")
        .bind(outcome.status.as_str())
        .bind(i64::from(outcome.attempts))
        .bind(outcome.error.as_deref())
        .bind(outcome.response_id.as_deref())
        .bind(now)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn record_attempt(
    conn: &mut sqlx::AnyConnection,
    delivery_id: &str,
    a: &AttemptRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO delivery_attempts (id, delivery_id, number, at, result, http_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(delivery_id)
        .bind(i64::from(a.number))
        .bind(a.at.timestamp_millis())
        .bind(a.result.as_str())
        .bind(a.http_status.map(i64::from))
        .bind(a.error.as_deref())
        .execute(conn)
        .await?;
    Ok(())
}

/// Delivers a finished run to its targets, concurrently and independently, through the ledger.
/// `input.delivery_id` is replaced per destination by its ledger row id.
pub async fn deliver_run(
    state: &AppState,
    tenant_id: &str,
    run_id: &str,
    input: &DeliveryInput,
    targets: Vec<Target>,
) -> Result<Vec<DeliveryRow>, AppError> {
    let settings = destinations::settings(state);
    let mut tasks = tokio::task::JoinSet::new();
    for t in targets {
        match t {
            Target::Skip { id, kind, name, reason } => {
                claim(state, tenant_id, run_id, &id, &kind, &name, "skipped", Some(&reason)).await?;
            }
            Target::Send { id, kind, name, destination } => {
                let Some(delivery_id) = claim(state, tenant_id, run_id, &id, &kind, &name, "pending", None).await?
                else {
                    tracing::info!(event = "delivery.already_claimed", run.id = %run_id, destination.id = %id, "not sent again");
                    continue;
                };
                let (state, settings) = (state.clone(), settings.clone());
                let mut input = input.clone();
                input.delivery_id = delivery_id.clone();
                tasks.spawn(async move {
                    let outcome = delivery::deliver(&destination, &input, &settings, |_| {}).await;
                    tracing::info!(
                        event = "delivery.finished", run.id = %input.run_id, delivery.id = %delivery_id, delivery.kind = destination.kind(),
                        status = outcome.status.as_str(), attempts = outcome.attempts, "delivery finished"
                    );
                    crate::engine::metrics::delivery(destination.kind(), outcome.status.as_str(), outcome.attempts);
                    record(&state, &delivery_id, &outcome).await
                });
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.map_err(|e| super::error::internal("delivery task", e))? {
            tracing::error!(event = "delivery.record_failed", run.id = %run_id, error.message = %e, "could not record a delivery");
        }
    }
    list(state, run_id).await
}

/// The ledger rows of a run.
pub async fn list(state: &AppState, run_id: &str) -> Result<Vec<DeliveryRow>, AppError> {
    let rows = sqlx::query(
        "SELECT id, destination_id, kind, name, status, attempts, last_error, response_id FROM deliveries WHERE run_id = $1 ORDER BY name, id",
    )
    .bind(run_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DeliveryRow {
            id: get_str(r, "id"),
            destination_id: get_str(r, "destination_id"),
            kind: get_str(r, "kind"),
            name: get_str(r, "name"),
            status: get_str(r, "status"),
            attempts: get_i64(r, "attempts"),
            error: get_opt_str(r, "last_error"),
            response_id: get_opt_str(r, "response_id"),
        })
        .collect())
}
