//! `report_runs`, the one writer of the table. Every state change is a conditional update on the
//! expected current state and owner (see `model::runs`): the function answers whether it matched,
//! and a caller that did not match has lost the run (abandoned or adopted elsewhere) and stops.

use crate::engine::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::model::runs::{RunPhase, RunStatus, Trigger};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

/// A run as stored.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Template.
    pub template_id: String,
    /// Schedule, for scheduled runs.
    pub schedule_id: Option<String>,
    /// What started it.
    pub trigger: Trigger,
    /// Who: an email or `scheduler`.
    pub triggered_by: String,
    /// The slot, for scheduled runs (epoch ms).
    pub scheduled_for: Option<i64>,
    /// Status.
    pub status: RunStatus,
    /// Phase.
    pub phase: RunPhase,
    /// The inputs snapshot (JSON text).
    pub inputs: String,
    /// The narrative (JSON text).
    pub narrative: Option<String>,
    /// The section data (JSON text).
    pub sections: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Epoch ms.
    pub queued_at: i64,
    /// Epoch ms.
    pub started_at: Option<i64>,
    /// Epoch ms.
    pub finished_at: Option<i64>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// The report's generated-at (RFC 3339), once rendered.
    pub generated_at: Option<String>,
}

const COLS: &str =
    "id, tenant_id, template_id, schedule_id, trigger, triggered_by, scheduled_for, status, phase, inputs, \
                    narrative, sections, error, queued_at, started_at, finished_at, duration_ms, generated_at";

fn from_row(r: &AnyRow) -> RunRow {
    RunRow {
        id: get_str(r, "id"),
        tenant_id: get_str(r, "tenant_id"),
        template_id: get_str(r, "template_id"),
        schedule_id: get_opt_str(r, "schedule_id"),
        trigger: Trigger::parse(&get_str(r, "trigger")).unwrap_or(Trigger::Schedule),
        triggered_by: get_str(r, "triggered_by"),
        scheduled_for: get_opt_i64(r, "scheduled_for"),
        status: RunStatus::parse(&get_str(r, "status")).unwrap_or(RunStatus::Failed),
        phase: RunPhase::parse(&get_str(r, "phase")).unwrap_or(RunPhase::Finished),
        inputs: get_str(r, "inputs"),
        narrative: get_opt_str(r, "narrative"),
        sections: get_opt_str(r, "sections"),
        error: get_opt_str(r, "error"),
        queued_at: get_i64(r, "queued_at"),
        started_at: get_opt_i64(r, "started_at"),
        finished_at: get_opt_i64(r, "finished_at"),
        duration_ms: get_opt_i64(r, "duration_ms"),
        generated_at: get_opt_str(r, "generated_at"),
    }
}

/// A run to insert, queued and owned.
pub struct NewRun<'a> {
    /// Id.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Template.
    pub template_id: &'a str,
    /// Schedule.
    pub schedule_id: Option<&'a str>,
    /// Trigger.
    pub trigger: Trigger,
    /// Who.
    pub triggered_by: &'a str,
    /// The slot.
    pub scheduled_for: Option<i64>,
    /// Inputs snapshot (JSON text).
    pub inputs: &'a str,
    /// Now.
    pub now: i64,
    /// The owning process.
    pub owner: &'a str,
    /// The lease's end.
    pub lease_until: i64,
}

/// Inserts a queued run; false when a run for the same (schedule, slot) exists, or a Run Now of
/// the template is already queued or running (the unique keys refuse it).
pub async fn insert_queued(conn: &mut AnyConnection, r: &NewRun<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO report_runs (id, tenant_id, template_id, schedule_id, trigger, triggered_by, scheduled_for, status, phase, inputs, queued_at, owner, lease_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
    )
    .bind(r.id)
    .bind(r.tenant_id)
    .bind(r.template_id)
    .bind(r.schedule_id)
    .bind(r.trigger.as_str())
    .bind(r.triggered_by)
    .bind(r.scheduled_for)
    .bind(RunStatus::Queued.as_str())
    .bind(RunPhase::Queued.as_str())
    .bind(r.inputs)
    .bind(r.now)
    .bind(r.owner)
    .bind(r.lease_until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// queued → running (phase rendering), only for the owner.
pub async fn start(pool: &AnyPool, id: &str, owner: &str, now: i64, lease_until: i64) -> Result<bool, sqlx::Error> {
    RunStatus::Queued.to(RunStatus::Running).expect("allowed");
    let done = sqlx::query(
        "UPDATE report_runs SET status = $1, phase = $2, started_at = $3, lease_until = $4 WHERE id = $5 AND owner = $6 AND status = $7",
    )
    .bind(RunStatus::Running.as_str())
    .bind(RunPhase::Rendering.as_str())
    .bind(now)
    .bind(lease_until)
    .bind(id)
    .bind(owner)
    .bind(RunStatus::Queued.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a running run to `phase` (recording its `sections` when given) if `owner` still owns it:
/// the fence a run's pipeline passes inside the transaction that stores its files and ledger rows.
pub async fn fence(
    conn: &mut AnyConnection,
    id: &str,
    owner: &str,
    phase: RunPhase,
    sections: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE report_runs SET phase = $1, sections = COALESCE($5, sections) WHERE id = $2 AND owner = $3 AND status = $4",
    )
    .bind(phase.as_str())
    .bind(id)
    .bind(owner)
    .bind(RunStatus::Running.as_str())
    .bind(sections)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How a run ends.
pub struct Finish<'a> {
    /// The final status.
    pub status: RunStatus,
    /// Narrative JSON.
    pub narrative: Option<&'a str>,
    /// Sections JSON.
    pub sections: Option<&'a str>,
    /// Why it failed.
    pub error: Option<&'a str>,
    /// The report's generated-at.
    pub generated_at: Option<&'a str>,
    /// Now.
    pub now: i64,
}

/// running → finished, only for the owner. After this the run is immutable (database trigger).
pub async fn finish(conn: &mut AnyConnection, id: &str, owner: &str, f: &Finish<'_>) -> Result<bool, sqlx::Error> {
    RunStatus::Running.to(f.status).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let done = sqlx::query(
        "UPDATE report_runs SET status = $1, phase = $2, narrative = $3, sections = $4, error = $5, generated_at = $6, \
         finished_at = $7, duration_ms = $7 - COALESCE(started_at, queued_at), lease_until = NULL \
         WHERE id = $8 AND owner = $9 AND status = $10",
    )
    .bind(f.status.as_str())
    .bind(RunPhase::Finished.as_str())
    .bind(f.narrative)
    .bind(f.sections)
    .bind(f.error)
    .bind(f.generated_at)
    .bind(f.now)
    .bind(id)
    .bind(owner)
    .bind(RunStatus::Running.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whose hold on a run a write requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold<'a> {
    /// The owning process (its own writes).
    Owner(&'a str),
    /// Anyone, once the run's lease lapsed before this instant (a sweep of a dead owner's run).
    LapsedBefore(i64),
}

impl Hold<'_> {
    fn binds(self) -> (&'static str, String, i64) {
        let cond = "((owner = $h1 AND $h1 <> '') OR ($h1 = '' AND (lease_until IS NULL OR lease_until < $h2)))";
        match self {
            Hold::Owner(o) => (cond, o.to_string(), 0),
            Hold::LapsedBefore(t) => (cond, String::new(), t),
        }
    }
}

/// Locks a run in state `from` that `hold` allows to change, so that what follows in the
/// transaction — settling its deliveries, then finishing it; marking a delivery as sending —
/// cannot interleave with another writer. On PostgreSQL the row lock (`FOR NO KEY UPDATE`, which
/// conflicts with every update of the row but writes no new version of it, unlike the no-op
/// update it replaced: two per run in a burst); on SQLite a no-op update, which takes the
/// database's write lock first. False when the run is no longer in that state or held that way.
pub async fn lock(conn: &mut AnyConnection, id: &str, from: RunStatus, hold: Hold<'_>) -> Result<bool, sqlx::Error> {
    let (cond, h1, h2) = hold.binds();
    let cond = cond.replace("$h1", "$3").replace("$h2", "$4");
    if conn.backend_name() == "PostgreSQL" {
        let sql = format!("SELECT id FROM report_runs WHERE id = $1 AND status = $2 AND {cond} FOR NO KEY UPDATE");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(from.as_str())
            .bind(h1)
            .bind(h2)
            .fetch_optional(conn)
            .await?;
        return Ok(row.is_some());
    }
    let sql = format!("UPDATE report_runs SET lease_until = lease_until WHERE id = $1 AND status = $2 AND {cond}");
    let done =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(from.as_str()).bind(h1).bind(h2).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// Fails a run in state `from` with a reason, when `hold` allows; false when it moved on.
pub async fn fail(
    conn: &mut AnyConnection,
    id: &str,
    from: RunStatus,
    error: &str,
    now: i64,
    hold: Hold<'_>,
) -> Result<bool, sqlx::Error> {
    from.to(RunStatus::Failed).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let (cond, h1, h2) = hold.binds();
    let sql = format!(
        "UPDATE report_runs SET status = $1, phase = $2, error = $3, finished_at = $4, \
         duration_ms = $4 - COALESCE(started_at, queued_at), lease_until = NULL \
         WHERE id = $5 AND status = $6 AND {}",
        cond.replace("$h1", "$7").replace("$h2", "$8")
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(RunStatus::Failed.as_str())
        .bind(RunPhase::Finished.as_str())
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .bind(h1)
        .bind(h2)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Renews the leases of the given runs (queued or running) that `owner` still owns and that end
/// before `ending_before`.
pub async fn renew(
    pool: &AnyPool,
    owner: &str,
    ids: &[String],
    until: i64,
    ending_before: i64,
) -> Result<u64, sqlx::Error> {
    let mut renewed = 0;
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 6)).collect();
        let sql = format!(
            "UPDATE report_runs SET lease_until = $1 WHERE owner = $2 AND status IN ($3, $4) \
             AND (lease_until IS NULL OR lease_until < $5) AND id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(until)
            .bind(owner)
            .bind(RunStatus::Queued.as_str())
            .bind(RunStatus::Running.as_str())
            .bind(ending_before);
        for id in chunk {
            q = q.bind(id);
        }
        renewed += q.execute(pool).await?.rows_affected();
    }
    Ok(renewed)
}

/// A queued or running run whose lease lapsed.
#[derive(Debug, Clone)]
pub struct Expired {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The tenant's name (the report header).
    pub tenant_name: String,
    /// Queued or running.
    pub status: RunStatus,
    /// When it was queued.
    pub queued_at: i64,
    /// The schedule, for scheduled runs.
    pub schedule_id: Option<String>,
}

/// Queued and running runs whose lease lapsed before `now` (their owner stopped renewing).
pub async fn expired(pool: &AnyPool, now: i64) -> Result<Vec<Expired>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.id, r.tenant_id, t.name AS tenant_name, r.status, r.queued_at, r.schedule_id FROM report_runs r \
         JOIN tenants t ON t.id = r.tenant_id \
         WHERE r.status IN ($1, $2) AND (r.lease_until IS NULL OR r.lease_until < $3) ORDER BY r.queued_at, r.id LIMIT 500",
    )
    .bind(RunStatus::Queued.as_str())
    .bind(RunStatus::Running.as_str())
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Expired {
            id: get_str(r, "id"),
            tenant_id: get_str(r, "tenant_id"),
            tenant_name: get_str(r, "tenant_name"),
            status: RunStatus::parse(&get_str(r, "status")).unwrap_or(RunStatus::Running),
            queued_at: get_i64(r, "queued_at"),
            schedule_id: get_opt_str(r, "schedule_id"),
        })
        .collect())
}

/// Takes over a queued run whose lease lapsed (it never started, so running it has no side
/// effect yet); false when another process took it first.
pub async fn adopt(pool: &AnyPool, id: &str, owner: &str, now: i64, until: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE report_runs SET owner = $1, lease_until = $2 WHERE id = $3 AND status = $4 AND (lease_until IS NULL OR lease_until < $5)",
    )
    .bind(owner)
    .bind(until)
    .bind(id)
    .bind(RunStatus::Queued.as_str())
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up ownership of a queued run (shutdown): its lease ends at once so a live process adopts
/// it. False when it is no longer queued by `owner`.
pub async fn release(pool: &AnyPool, id: &str, owner: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE report_runs SET owner = NULL, lease_until = 0 WHERE id = $1 AND owner = $2 AND status = $3",
    )
    .bind(id)
    .bind(owner)
    .bind(RunStatus::Queued.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The unfinished runs `owner` holds: (id, status).
pub async fn owned_unfinished(pool: &AnyPool, owner: &str) -> Result<Vec<(String, RunStatus)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, status FROM report_runs WHERE owner = $1 AND status IN ($2, $3)")
        .bind(owner)
        .bind(RunStatus::Queued.as_str())
        .bind(RunStatus::Running.as_str())
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (get_str(r, "id"), RunStatus::parse(&get_str(r, "status")).unwrap_or(RunStatus::Running)))
        .collect())
}

/// The queued or running run of a template, if any.
pub async fn active_for_template(
    pool: &AnyPool,
    tenant_id: &str,
    template_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id FROM report_runs WHERE tenant_id = $1 AND template_id = $2 AND status IN ($3, $4) ORDER BY queued_at LIMIT 1",
    )
    .bind(tenant_id)
    .bind(template_id)
    .bind(RunStatus::Queued.as_str())
    .bind(RunStatus::Running.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| get_str(&r, "id")))
}

/// One run of the tenant (any tenant when `tenant_id` is None).
pub async fn get(pool: &AnyPool, tenant_id: Option<&str>, id: &str) -> Result<Option<RunRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM report_runs WHERE id = $1 AND ($2 = '' OR tenant_id = $2)");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(tenant_id.unwrap_or("")).fetch_optional(pool).await?;
    Ok(row.as_ref().map(from_row))
}

/// A page of the tenant's runs, newest first (optionally of one template), and the total.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    template_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RunRow>, i64), sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM report_runs WHERE tenant_id = $1 AND ($2 = '' OR template_id = $2) \
         ORDER BY queued_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(template_id.unwrap_or(""))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    let total =
        sqlx::query("SELECT COUNT(*) AS n FROM report_runs WHERE tenant_id = $1 AND ($2 = '' OR template_id = $2)")
            .bind(tenant_id)
            .bind(template_id.unwrap_or(""))
            .fetch_one(pool)
            .await?;
    Ok((rows.iter().map(from_row).collect(), get_i64(&total, "n")))
}
