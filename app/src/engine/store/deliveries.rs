//! `deliveries`, `delivery_attempts` and `delivery_resends`: the delivery ledger's one writer.
//! A delivery row is unique per (run, destination); it moves pending → sending → final only by
//! conditional updates, and only while its run is running and owned by the writer. Attempts are
//! appended as they happen. A finished run's deliveries never change again (database triggers):
//! a re-send is a new `delivery_resends` row with its own attempts.

use crate::engine::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::engine::new_id;
use crate::model::runs::DeliveryStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

/// A delivery as stored, with its latest re-send folded in by [`list_for_runs`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    /// The ledger id (the delivery id receivers see, stable across retries and re-sends).
    pub id: String,
    /// The run.
    pub run_id: String,
    /// The destination.
    pub destination_id: String,
    /// Its kind.
    pub kind: String,
    /// Its name at delivery time.
    pub name: String,
    /// The status of the run's own delivery.
    pub status: DeliveryStatus,
    /// Attempts made by the run.
    pub attempts: i64,
    /// The last error or the skip reason (no secrets).
    pub error: Option<String>,
    /// The provider's response id, if any.
    pub response_id: Option<String>,
}

fn delivery_from_row(r: &AnyRow) -> DeliveryRow {
    DeliveryRow {
        id: get_str(r, "id"),
        run_id: get_str(r, "run_id"),
        destination_id: get_str(r, "destination_id"),
        kind: get_str(r, "kind"),
        name: get_str(r, "name"),
        status: DeliveryStatus::parse(&get_str(r, "status")).unwrap_or(DeliveryStatus::Unknown),
        attempts: get_i64(r, "attempts"),
        error: get_opt_str(r, "last_error"),
        response_id: get_opt_str(r, "response_id"),
    }
}

const DELIVERY_COLS: &str = "id, run_id, destination_id, kind, name, status, attempts, last_error, response_id";

/// A ledger row to create.
pub struct NewDelivery<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Run.
    pub run_id: &'a str,
    /// Destination.
    pub destination_id: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Name.
    pub name: &'a str,
    /// `pending`, or `skipped` with `error` as the reason.
    pub status: DeliveryStatus,
    /// The skip reason.
    pub error: Option<&'a str>,
    /// Now.
    pub now: i64,
}

/// Creates the row for (run, destination) unless it exists (then nothing changes).
pub async fn insert(conn: &mut AnyConnection, d: &NewDelivery<'_>) -> Result<(), sqlx::Error> {
    let finished = d.status.is_final().then_some(d.now);
    sqlx::query(
        "INSERT INTO deliveries (id, tenant_id, run_id, destination_id, kind, name, status, attempts, last_error, created_at, updated_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9, $10) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(d.tenant_id)
    .bind(d.run_id)
    .bind(d.destination_id)
    .bind(d.kind)
    .bind(d.name)
    .bind(d.status.as_str())
    .bind(d.error)
    .bind(d.now)
    .bind(finished)
    .execute(conn)
    .await?;
    Ok(())
}

/// The ledger rows of one run (without re-sends), by name.
pub async fn of_run(conn: &mut AnyConnection, run_id: &str) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let sql = format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE run_id = $1 ORDER BY name, id");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(run_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(delivery_from_row)
        .collect())
}

/// pending → sending, only while the run is running and owned by `owner`: the run row is locked
/// first (the same fence as every write of its pipeline), so a sweep that fails the run cannot
/// interleave. False means: do not send (someone else has it, or the run was abandoned).
pub async fn start_sending(pool: &AnyPool, id: &str, run_id: &str, owner: &str, now: i64) -> Result<bool, sqlx::Error> {
    DeliveryStatus::Pending.to(DeliveryStatus::Sending).expect("allowed");
    let mut tx = pool.begin().await?;
    // The run is in its delivering phase already (the ledger rows were written under that fence):
    // the lock alone.
    let hold = super::runs::Hold::Owner(owner);
    if !super::runs::lock(&mut tx, run_id, crate::model::runs::RunStatus::Running, hold).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let done = sqlx::query("UPDATE deliveries SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
        .bind(DeliveryStatus::Sending.as_str())
        .bind(now)
        .bind(id)
        .bind(DeliveryStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// One attempt, as it ends.
pub struct NewAttempt<'a> {
    /// The delivery.
    pub delivery_id: &'a str,
    /// The re-send it belongs to, if any.
    pub resend_id: Option<&'a str>,
    /// Its number within the delivery (re-sends continue the count).
    pub number: i64,
    /// When it started.
    pub at: i64,
    /// `delivered`, `accepted`, `retry` or `failed`.
    pub result: &'a str,
    /// The HTTP status, if any.
    pub http_status: Option<i64>,
    /// The error, if any (secret-free).
    pub error: Option<&'a str>,
    /// Now.
    pub now: i64,
}

/// Appends an attempt and updates the count and last error of its delivery (or re-send) while
/// it is sending, in one transaction.
pub async fn record_attempt(pool: &AnyPool, a: &NewAttempt<'_>) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO delivery_attempts (id, delivery_id, resend_id, number, at, result, http_status, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(a.delivery_id)
    .bind(a.resend_id)
    .bind(a.number)
    .bind(a.at)
    .bind(a.result)
    .bind(a.http_status)
    .bind(a.error)
    .execute(&mut *tx)
    .await?;
    let (table, id) = match a.resend_id {
        Some(r) => ("delivery_resends", r),
        None => ("deliveries", a.delivery_id),
    };
    let stamp = if a.resend_id.is_some() { "" } else { ", updated_at = $4" };
    let sql =
        format!("UPDATE {table} SET attempts = attempts + 1, last_error = $1{stamp} WHERE id = $2 AND status = $3");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(a.error).bind(id).bind(DeliveryStatus::Sending.as_str());
    if a.resend_id.is_none() {
        q = q.bind(a.now);
    }
    q.execute(&mut *tx).await?;
    tx.commit().await
}

/// The final outcome of a send.
pub struct Outcome<'a> {
    /// Delivered, accepted or failed.
    pub status: DeliveryStatus,
    /// The final error.
    pub error: Option<&'a str>,
    /// The provider's id.
    pub response_id: Option<&'a str>,
    /// Now.
    pub now: i64,
}

/// sending → final; false when the row was no longer sending (the run was abandoned meanwhile and
/// the delivery marked unknown: the truth is then "unknown", and it stays so).
pub async fn finish(pool: &AnyPool, id: &str, o: &Outcome<'_>) -> Result<bool, sqlx::Error> {
    DeliveryStatus::Sending.to(o.status).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = $1, last_error = $2, response_id = $3, updated_at = $4, finished_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(o.status.as_str())
    .bind(o.error)
    .bind(o.response_id)
    .bind(o.now)
    .bind(id)
    .bind(DeliveryStatus::Sending.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Settles a run's unfinished deliveries before the run itself ends (same transaction): a send in
/// flight becomes `unknown`, one never started `failed` with `reason`. Returns how many changed.
pub async fn settle_unfinished(
    conn: &mut AnyConnection,
    run_id: &str,
    reason: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for from in [DeliveryStatus::Sending, DeliveryStatus::Pending] {
        let to = from.when_interrupted();
        let why = match to {
            DeliveryStatus::Unknown => format!("outcome unknown: {reason} while it was being sent"),
            _ => format!("not sent: {reason}"),
        };
        changed += sqlx::query(
            "UPDATE deliveries SET status = $1, last_error = $2, updated_at = $3, finished_at = $3 WHERE run_id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(&why)
        .bind(now)
        .bind(run_id)
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(changed)
}

/// One attempt as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    /// The delivery.
    pub delivery_id: String,
    /// The re-send, if any.
    pub resend_id: Option<String>,
    /// Number within the delivery.
    pub number: i64,
    /// Epoch ms.
    pub at: i64,
    /// Result.
    pub result: String,
    /// HTTP status.
    pub http_status: Option<i64>,
    /// Error.
    pub error: Option<String>,
}

/// A re-send as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ResendRow {
    /// Id.
    pub id: String,
    /// The delivery re-sent.
    pub delivery_id: String,
    /// Who asked.
    pub requested_by: String,
    /// When (epoch ms).
    pub requested_at: i64,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts.
    pub attempts: i64,
    /// Error.
    pub error: Option<String>,
    /// Provider id.
    pub response_id: Option<String>,
    /// When it ended.
    pub finished_at: Option<i64>,
}

fn resend_from_row(r: &AnyRow) -> ResendRow {
    ResendRow {
        id: get_str(r, "id"),
        delivery_id: get_str(r, "delivery_id"),
        requested_by: get_str(r, "requested_by"),
        requested_at: get_i64(r, "requested_at"),
        status: DeliveryStatus::parse(&get_str(r, "status")).unwrap_or(DeliveryStatus::Unknown),
        attempts: get_i64(r, "attempts"),
        error: get_opt_str(r, "last_error"),
        response_id: get_opt_str(r, "response_id"),
        finished_at: get_opt_i64(r, "finished_at"),
    }
}

const RESEND_COLS: &str =
    "id, delivery_id, requested_by, requested_at, status, attempts, last_error, response_id, finished_at";

/// Every delivery, attempt and re-send of these runs, in three queries whatever their number.
pub async fn list_for_runs(
    pool: &AnyPool,
    run_ids: &[String],
) -> Result<(Vec<DeliveryRow>, Vec<AttemptRow>, Vec<ResendRow>), sqlx::Error> {
    if run_ids.is_empty() {
        return Ok(Default::default());
    }
    let marks: Vec<String> = (1..=run_ids.len()).map(|i| format!("${i}")).collect();
    let ins = marks.join(", ");
    let q = |sql: String| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in run_ids {
            q = q.bind(id.clone());
        }
        q
    };
    // Read in the reverse of the order things are written: an attempt is committed before the
    // delivery's or re-send's outcome, so reading the outcomes first and the attempts last never
    // shows a finished delivery without the attempt that finished it (three reads, no snapshot
    // across them; a re-send finishing between the reads once showed "delivered" with no attempt).
    let deliveries = q(format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE run_id IN ({ins}) ORDER BY name, id"))
        .fetch_all(pool)
        .await?;
    let resends = q(format!(
        "SELECT {} FROM delivery_resends r JOIN deliveries d ON d.id = r.delivery_id WHERE d.run_id IN ({ins}) ORDER BY r.requested_at, r.id",
        RESEND_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .fetch_all(pool)
    .await?;
    let attempts = q(format!(
        "SELECT a.delivery_id, a.resend_id, a.number, a.at, a.result, a.http_status, a.error FROM delivery_attempts a \
         JOIN deliveries d ON d.id = a.delivery_id WHERE d.run_id IN ({ins}) ORDER BY a.delivery_id, a.number"
    ))
    .fetch_all(pool)
    .await?;
    Ok((
        deliveries.iter().map(delivery_from_row).collect(),
        attempts
            .iter()
            .map(|r| AttemptRow {
                delivery_id: get_str(r, "delivery_id"),
                resend_id: get_opt_str(r, "resend_id"),
                number: get_i64(r, "number"),
                at: get_i64(r, "at"),
                result: get_str(r, "result"),
                http_status: get_opt_i64(r, "http_status"),
                error: get_opt_str(r, "error"),
            })
            .collect(),
        resends.iter().map(resend_from_row).collect(),
    ))
}

/// A delivery of the tenant's run, with its latest re-send, if any.
pub async fn get(
    pool: &AnyPool,
    tenant_id: &str,
    run_id: &str,
    id: &str,
) -> Result<Option<(DeliveryRow, Option<ResendRow>)>, sqlx::Error> {
    let sql = format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE id = $1 AND run_id = $2 AND tenant_id = $3");
    let Some(row) =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(run_id).bind(tenant_id).fetch_optional(pool).await?
    else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {RESEND_COLS} FROM delivery_resends WHERE delivery_id = $1 ORDER BY requested_at DESC, id DESC LIMIT 1"
    );
    let last = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    Ok(Some((delivery_from_row(&row), last.as_ref().map(resend_from_row))))
}

/// The highest attempt number of a delivery (re-sends continue from it).
pub async fn last_attempt_number(pool: &AnyPool, delivery_id: &str) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT COALESCE(MAX(number), 0) AS n FROM delivery_attempts WHERE delivery_id = $1")
        .bind(delivery_id)
        .fetch_one(pool)
        .await?;
    Ok(get_i64(&r, "n"))
}

/// A re-send to create, already sending and owned.
pub struct NewResend<'a> {
    /// Id.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// The delivery.
    pub delivery_id: &'a str,
    /// Who asked.
    pub requested_by: &'a str,
    /// Now.
    pub now: i64,
    /// The owning process.
    pub owner: &'a str,
    /// Lease end.
    pub lease_until: i64,
}

/// Creates a re-send in state `sending`; false when another re-send of the delivery is in flight
/// or one already reached the destination (checked in the same statement, so two requests can
/// never both send).
pub async fn insert_resend(conn: &mut AnyConnection, r: &NewResend<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO delivery_resends (id, tenant_id, delivery_id, requested_by, requested_at, status, attempts, owner, lease_until) \
         SELECT $1, $2, $3, $4, $5, $6, 0, $7, $8 WHERE NOT EXISTS \
         (SELECT 1 FROM delivery_resends WHERE delivery_id = $3 AND status IN ($9, $10, $11, $12)) ON CONFLICT DO NOTHING",
    )
    .bind(r.id)
    .bind(r.tenant_id)
    .bind(r.delivery_id)
    .bind(r.requested_by)
    .bind(r.now)
    .bind(DeliveryStatus::Sending.as_str())
    .bind(r.owner)
    .bind(r.lease_until)
    .bind(DeliveryStatus::Pending.as_str())
    .bind(DeliveryStatus::Sending.as_str())
    .bind(DeliveryStatus::Delivered.as_str())
    .bind(DeliveryStatus::Accepted.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A re-send's sending → final.
pub async fn finish_resend(pool: &AnyPool, id: &str, o: &Outcome<'_>) -> Result<bool, sqlx::Error> {
    DeliveryStatus::Sending.to(o.status).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let done = sqlx::query(
        "UPDATE delivery_resends SET status = $1, last_error = $2, response_id = $3, finished_at = $4, lease_until = NULL WHERE id = $5 AND status = $6",
    )
    .bind(o.status.as_str())
    .bind(o.error)
    .bind(o.response_id)
    .bind(o.now)
    .bind(id)
    .bind(DeliveryStatus::Sending.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Renews the leases of re-sends `owner` holds.
pub async fn renew_resends(pool: &AnyPool, owner: &str, ids: &[String], until: i64) -> Result<u64, sqlx::Error> {
    let mut n = 0;
    for id in ids {
        n += sqlx::query("UPDATE delivery_resends SET lease_until = $1 WHERE id = $2 AND owner = $3 AND status = $4")
            .bind(until)
            .bind(id)
            .bind(owner)
            .bind(DeliveryStatus::Sending.as_str())
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(n)
}

/// Re-sends in flight whose lease lapsed before `now` (their process stopped renewing).
pub async fn expired_resends(pool: &AnyPool, now: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id FROM delivery_resends WHERE status = $1 AND (lease_until IS NULL OR lease_until < $2)")
            .bind(DeliveryStatus::Sending.as_str())
            .bind(now)
            .fetch_all(pool)
            .await?;
    Ok(rows.iter().map(|r| get_str(r, "id")).collect())
}

/// A re-send whose process stopped while sending: its outcome is `unknown`. False when it had
/// already ended.
pub async fn settle_resend(pool: &AnyPool, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE delivery_resends SET status = $1, last_error = $2, finished_at = $3, lease_until = NULL WHERE id = $4 AND status = $5",
    )
    .bind(DeliveryStatus::Unknown.as_str())
    .bind("outcome unknown: the server stopped while the re-send was being sent")
    .bind(now)
    .bind(id)
    .bind(DeliveryStatus::Sending.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every re-send `owner` still has in flight (its process is stopping).
pub async fn owned_resends(pool: &AnyPool, owner: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM delivery_resends WHERE status = $1 AND owner = $2")
        .bind(DeliveryStatus::Sending.as_str())
        .bind(owner)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|r| get_str(r, "id")).collect())
}
