//! `report_schedules`, the one writer: schedules of templates, their `next_run_at`, the scheduler's
//! claim (one conditional update inside the transaction that also inserts the run), parking, and
//! the last status and last claim error people see.

use crate::engine::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Template.
    pub template_id: String,
    /// Name.
    pub name: String,
    /// 5-field cron.
    pub cron: String,
    /// IANA zone.
    pub timezone: String,
    /// Destination ids (JSON text).
    pub destinations: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// Next slot, epoch ms (None when disabled or parked).
    pub next_run_at: Option<i64>,
    /// Why it cannot fire.
    pub parked_reason: Option<String>,
    /// The latest run's status.
    pub last_status: Option<String>,
    /// Why the last claim failed (cleared by the next good one).
    pub last_error: Option<String>,
}

const COLS: &str = "id, tenant_id, template_id, name, cron, timezone, destinations, enabled, next_run_at, parked_reason, last_status, last_error";

fn from_row(r: &AnyRow) -> ScheduleRow {
    ScheduleRow {
        id: get_str(r, "id"),
        tenant_id: get_str(r, "tenant_id"),
        template_id: get_str(r, "template_id"),
        name: get_str(r, "name"),
        cron: get_str(r, "cron"),
        timezone: get_str(r, "timezone"),
        destinations: serde_json::from_str(&get_str(r, "destinations")).unwrap_or_default(),
        enabled: get_i64(r, "enabled") != 0,
        next_run_at: get_opt_i64(r, "next_run_at"),
        parked_reason: get_opt_str(r, "parked_reason"),
        last_status: get_opt_str(r, "last_status"),
        last_error: get_opt_str(r, "last_error"),
    }
}

/// A schedule to store.
pub struct NewSchedule<'a> {
    /// Id.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Template.
    pub template_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Cron.
    pub cron: &'a str,
    /// Zone.
    pub timezone: &'a str,
    /// Destinations.
    pub destinations: &'a [String],
    /// Enabled.
    pub enabled: bool,
    /// First slot.
    pub next_run_at: Option<i64>,
    /// Now.
    pub now: i64,
}

/// Inserts a schedule unless the tenant already has `cap` of them; false when at the cap. The
/// count and the insert are one statement inside the caller's transaction, which must have taken
/// the tenant's lock first ([`super::tenants::lock`]) so two creates cannot both pass the count.
pub async fn insert_capped(conn: &mut AnyConnection, s: &NewSchedule<'_>, cap: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO report_schedules (id, tenant_id, template_id, name, cron, timezone, destinations, enabled, next_run_at, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10 WHERE (SELECT COUNT(*) FROM report_schedules WHERE tenant_id = $2) < $11",
    )
    .bind(s.id)
    .bind(s.tenant_id)
    .bind(s.template_id)
    .bind(s.name)
    .bind(s.cron)
    .bind(s.timezone)
    .bind(serde_json::to_string(s.destinations).unwrap_or_default())
    .bind(i64::from(s.enabled))
    .bind(s.next_run_at)
    .bind(s.now)
    .bind(cap)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What an edit changes.
pub struct Edit<'a> {
    /// Name.
    pub name: &'a str,
    /// Cron.
    pub cron: &'a str,
    /// Zone.
    pub timezone: &'a str,
    /// Destinations.
    pub destinations: &'a [String],
    /// Enabled.
    pub enabled: bool,
    /// A new `next_run_at` when the timing changed; None leaves the stored one alone (it may
    /// have just been advanced by a claim, which an edit must never undo).
    pub next_run_at: Option<Option<i64>>,
    /// Now.
    pub now: i64,
}

/// Updates a schedule of the tenant.
pub async fn update(conn: &mut AnyConnection, tenant_id: &str, id: &str, e: &Edit<'_>) -> Result<(), sqlx::Error> {
    let timing = if e.next_run_at.is_some() { ", next_run_at = $9, parked_reason = NULL" } else { "" };
    let sql = format!(
        "UPDATE report_schedules SET name = $1, cron = $2, timezone = $3, destinations = $4, enabled = $5, updated_at = $6{timing} \
         WHERE id = $7 AND tenant_id = $8"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(e.name)
        .bind(e.cron)
        .bind(e.timezone)
        .bind(serde_json::to_string(e.destinations).unwrap_or_default())
        .bind(i64::from(e.enabled))
        .bind(e.now)
        .bind(id)
        .bind(tenant_id);
    if let Some(next) = e.next_run_at {
        q = q.bind(next);
    }
    q.execute(conn).await?;
    Ok(())
}

/// Sets `next_run_at` of one schedule (re-anchoring when its template is enabled again).
pub async fn set_next(conn: &mut AnyConnection, id: &str, next: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE report_schedules SET next_run_at = $1 WHERE id = $2").bind(next).bind(id).execute(conn).await?;
    Ok(())
}

/// Deletes one schedule of the tenant.
pub async fn delete(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM report_schedules WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes every schedule of a template.
pub async fn delete_of_template(
    conn: &mut AnyConnection,
    tenant_id: &str,
    template_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM report_schedules WHERE template_id = $1 AND tenant_id = $2")
        .bind(template_id)
        .bind(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One schedule of the tenant.
pub async fn get(pool: &AnyPool, tenant_id: &str, id: &str) -> Result<Option<ScheduleRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM report_schedules WHERE tenant_id = $1 AND id = $2");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(from_row))
}

/// The schedules of the tenant (of one template when given), oldest first.
pub async fn list(pool: &AnyPool, tenant_id: &str, template_id: Option<&str>) -> Result<Vec<ScheduleRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM report_schedules WHERE tenant_id = $1 AND ($2 = '' OR template_id = $2) ORDER BY created_at, id"
    );
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(template_id.unwrap_or("")).fetch_all(pool).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The schedules of the templates named by `(tenant, template)` pairs, oldest first, in one query.
pub async fn of_templates(conn: &mut AnyConnection, keys: &[(&str, &str)]) -> Result<Vec<ScheduleRow>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks = super::templates::pair_marks(keys.len());
    let sql = format!(
        "SELECT {COLS} FROM report_schedules WHERE (tenant_id, template_id) IN ({marks}) ORDER BY created_at, id"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (tenant, id) in keys {
        q = q.bind(*tenant).bind(*id);
    }
    Ok(q.fetch_all(conn).await?.iter().map(from_row).collect())
}

/// A due schedule, as the tick reads it.
#[derive(Debug, Clone)]
pub struct Due {
    /// Schedule.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The tenant's name.
    pub tenant_name: String,
    /// Template.
    pub template_id: String,
    /// Cron.
    pub cron: String,
    /// Zone.
    pub timezone: String,
    /// The slot that is due (the claim's expected value).
    pub next_run_at: i64,
}

/// Enabled schedules of enabled templates whose slot is at or before `now`.
const DUE_SELECT: &str =
    "SELECT s.id, s.tenant_id, n.name AS tenant_name, s.template_id, s.cron, s.timezone, s.next_run_at \
     FROM report_schedules s JOIN report_templates t ON t.id = s.template_id JOIN tenants n ON n.id = s.tenant_id \
     WHERE s.enabled = 1 AND t.enabled = 1 AND s.next_run_at IS NOT NULL AND s.next_run_at <= $1";

fn due_from_row(r: &AnyRow) -> Due {
    Due {
        id: get_str(r, "id"),
        tenant_id: get_str(r, "tenant_id"),
        tenant_name: get_str(r, "tenant_name"),
        template_id: get_str(r, "template_id"),
        cron: get_str(r, "cron"),
        timezone: get_str(r, "timezone"),
        next_run_at: get_i64(r, "next_run_at"),
    }
}

/// The next page of due schedules after `after` (slot, id) in slot order, at most `limit`, read
/// inside the claiming transaction. With `skip_locked` (PostgreSQL) the rows are locked for the
/// transaction and rows another transaction holds are skipped, so processes ticking at once
/// claim disjoint pages instead of queueing behind each other's row locks.
pub async fn due_page(
    conn: &mut AnyConnection,
    now: i64,
    after: Option<(i64, &str)>,
    limit: i64,
    skip_locked: bool,
) -> Result<Vec<Due>, sqlx::Error> {
    let (slot, id) = after.unwrap_or((i64::MIN, ""));
    let lock = if skip_locked { " FOR UPDATE OF s SKIP LOCKED" } else { "" };
    let sql = format!("{DUE_SELECT} AND (s.next_run_at, s.id) > ($2, $3) ORDER BY s.next_run_at, s.id LIMIT $4{lock}");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(slot).bind(id).bind(limit).fetch_all(conn).await?;
    Ok(rows.iter().map(due_from_row).collect())
}

/// The claim: moves `next_run_at` from `seen` to `next` (and clears the last claim error) only if
/// it still equals `seen`. Runs inside the transaction that inserts the slot's run.
pub async fn claim(conn: &mut AnyConnection, id: &str, seen: i64, next: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE report_schedules SET next_run_at = $1, last_error = NULL, last_error_at = NULL WHERE id = $2 AND next_run_at = $3",
    )
    .bind(next)
    .bind(id)
    .bind(seen)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Parks a schedule that can never fire again, with the reason — only if its slot is still the
/// one read (`seen`), so a park never overwrites a concurrent claim or edit.
pub async fn park(pool: &AnyPool, id: &str, seen: i64, reason: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE report_schedules SET next_run_at = NULL, parked_reason = $1 WHERE id = $2 AND next_run_at = $3",
    )
    .bind(reason)
    .bind(id)
    .bind(seen)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records why a claim failed (best effort; the slot stays due and the next tick tries again).
pub async fn set_last_error(pool: &AnyPool, id: &str, error: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE report_schedules SET last_error = $1, last_error_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Mirrors a finished run's status on its schedule (inside the run's finishing transaction).
pub async fn set_last_status(
    conn: &mut AnyConnection,
    run_id: &str,
    status: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_schedules SET last_status = $1, last_run_at = $2 WHERE id = (SELECT schedule_id FROM report_runs WHERE id = $3)",
    )
    .bind(status)
    .bind(now)
    .bind(run_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many schedules the tenant has.
pub async fn count(pool: &AnyPool, tenant_id: &str) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM report_schedules WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(pool)
        .await?;
    Ok(get_i64(&r, "n"))
}
