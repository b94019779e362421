//! `report_templates`, the one writer: saved reports (dashboard, period, segment and parameters
//! fixed at save time; name, formats, narrative, fallback destinations, enabled, page setup and
//! send condition editable).

use crate::engine::db::{get_i64, get_opt_str, get_str};
use crate::model::reports::SendWhen;
use crate::model::runs::RunStatus;
use crate::model::PageSetup;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use std::collections::BTreeMap;

/// A template as stored, with its latest run.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Dashboard key.
    pub dashboard: String,
    /// Period key.
    pub period: String,
    /// Segment filter.
    pub segment_id: Option<String>,
    /// Source parameters.
    pub params: BTreeMap<String, String>,
    /// Formats.
    pub formats: Vec<String>,
    /// Narrative on.
    pub narrative_enabled: bool,
    /// Prompt addendum.
    pub narrative_prompt: Option<String>,
    /// Fallback destinations.
    pub fallback_destinations: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// Paper and orientation.
    pub page: PageSetup,
    /// When a run sends.
    pub send_when: SendWhen,
    /// Who created it.
    pub created_by: String,
    /// Epoch ms.
    pub created_at: i64,
    /// The latest run's status.
    pub last_run_status: Option<RunStatus>,
    /// The latest run's id.
    pub last_run_id: Option<String>,
}

const SELECT: &str = "SELECT t.id, t.name, t.dashboard, t.period, t.segment_id, t.params, t.formats, t.narrative_enabled, t.narrative_prompt, \
     t.fallback_destinations, t.enabled, t.page, t.send_when, t.created_by, t.created_at, \
     (SELECT r.status FROM report_runs r WHERE r.template_id = t.id ORDER BY r.queued_at DESC, r.id DESC LIMIT 1) AS last_status, \
     (SELECT r.id FROM report_runs r WHERE r.template_id = t.id ORDER BY r.queued_at DESC, r.id DESC LIMIT 1) AS last_run_id \
     FROM report_templates t";

fn from_row(r: &AnyRow) -> TemplateRow {
    TemplateRow {
        id: get_str(r, "id"),
        name: get_str(r, "name"),
        dashboard: get_str(r, "dashboard"),
        period: get_str(r, "period"),
        segment_id: get_opt_str(r, "segment_id"),
        params: serde_json::from_str(&get_str(r, "params")).unwrap_or_default(),
        formats: serde_json::from_str(&get_str(r, "formats")).unwrap_or_default(),
        narrative_enabled: get_i64(r, "narrative_enabled") != 0,
        narrative_prompt: get_opt_str(r, "narrative_prompt"),
        fallback_destinations: serde_json::from_str(&get_str(r, "fallback_destinations")).unwrap_or_default(),
        enabled: get_i64(r, "enabled") != 0,
        page: serde_json::from_str(&get_str(r, "page")).unwrap_or_default(),
        send_when: serde_json::from_str(&get_str(r, "send_when")).unwrap_or_default(),
        created_by: get_str(r, "created_by"),
        created_at: get_i64(r, "created_at"),
        last_run_status: get_opt_str(r, "last_status").and_then(|s| RunStatus::parse(&s)),
        last_run_id: get_opt_str(r, "last_run_id"),
    }
}

/// The editable and fixed fields of a template to write.
pub struct Fields<'a> {
    /// Name.
    pub name: &'a str,
    /// Dashboard key (fixed after create).
    pub dashboard: &'a str,
    /// Period key (fixed after create).
    pub period: &'a str,
    /// Segment (fixed after create).
    pub segment_id: Option<&'a str>,
    /// Parameters (fixed after create).
    pub params: &'a BTreeMap<String, String>,
    /// Formats.
    pub formats: &'a [String],
    /// Narrative on.
    pub narrative_enabled: bool,
    /// Prompt addendum.
    pub narrative_prompt: Option<&'a str>,
    /// Fallback destinations.
    pub fallback_destinations: &'a [String],
    /// Enabled.
    pub enabled: bool,
    /// Paper and orientation.
    pub page: PageSetup,
    /// When a run sends.
    pub send_when: &'a SendWhen,
}

/// Inserts a template.
pub async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    tenant_id: &str,
    f: &Fields<'_>,
    actor: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO report_templates (id, tenant_id, name, dashboard, period, segment_id, params, formats, narrative_enabled, narrative_prompt, \
         fallback_destinations, enabled, page, send_when, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(f.name)
    .bind(f.dashboard)
    .bind(f.period)
    .bind(f.segment_id)
    .bind(serde_json::to_string(f.params).unwrap_or_default())
    .bind(serde_json::to_string(f.formats).unwrap_or_default())
    .bind(i64::from(f.narrative_enabled))
    .bind(f.narrative_prompt)
    .bind(serde_json::to_string(f.fallback_destinations).unwrap_or_default())
    .bind(i64::from(f.enabled))
    .bind(serde_json::to_string(&f.page).unwrap_or_default())
    .bind(serde_json::to_string(f.send_when).unwrap_or_default())
    .bind(actor)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Updates the editable fields of a template of the tenant.
pub async fn update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    f: &Fields<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE report_templates SET name = $1, formats = $2, narrative_enabled = $3, narrative_prompt = $4, fallback_destinations = $5, enabled = $6, \
         page = $7, send_when = $8, updated_at = $9 WHERE id = $10 AND tenant_id = $11",
    )
    .bind(f.name)
    .bind(serde_json::to_string(f.formats).unwrap_or_default())
    .bind(i64::from(f.narrative_enabled))
    .bind(f.narrative_prompt)
    .bind(serde_json::to_string(f.fallback_destinations).unwrap_or_default())
    .bind(i64::from(f.enabled))
    .bind(serde_json::to_string(&f.page).unwrap_or_default())
    .bind(serde_json::to_string(f.send_when).unwrap_or_default())
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a template of the tenant (its schedules first, by the caller).
pub async fn delete(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM report_templates WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One template of the tenant.
pub async fn get<'e, E>(exec: E, tenant_id: &str, id: &str) -> Result<Option<TemplateRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("{SELECT} WHERE t.tenant_id = $1 AND t.id = $2");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row))
}

/// `(tenant, template)` pairs as a row-value list from `$1`: `($1, $2), ($3, $4), …`.
pub fn pair_marks(n: usize) -> String {
    (0..n).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect::<Vec<_>>().join(", ")
}

/// The templates named by `(tenant, template)` pairs, in one query (a tick reads a whole claim
/// page's templates at once); a pair naming another tenant's template finds nothing.
pub async fn get_many(conn: &mut AnyConnection, keys: &[(&str, &str)]) -> Result<Vec<TemplateRow>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{SELECT} WHERE (t.tenant_id, t.id) IN ({})", pair_marks(keys.len()));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (tenant, id) in keys {
        q = q.bind(*tenant).bind(*id);
    }
    Ok(q.fetch_all(conn).await?.iter().map(from_row).collect())
}

/// The tenant's templates, newest first.
pub async fn list(pool: &AnyPool, tenant_id: &str) -> Result<Vec<TemplateRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE t.tenant_id = $1 ORDER BY t.created_at DESC, t.id");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(pool).await?.iter().map(from_row).collect())
}
