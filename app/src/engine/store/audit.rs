//! The audit log: who created, changed, deleted, ran or tested what, and when.

use crate::engine::db::Db;
use crate::engine::new_id;

/// One audit entry.
pub struct Entry<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Who: an email, `apikey:<name>`, `cli` or `scheduler`.
    pub actor: &'a str,
    /// What: `tenant.create`, `template.update`, …
    pub action: &'a str,
    /// The noun acted on.
    pub target_kind: &'a str,
    /// Its id.
    pub target_id: &'a str,
    /// What changed, as JSON (never secrets).
    pub detail: serde_json::Value,
}

/// Records an entry on any executor (pool or transaction).
pub async fn record<'e, E>(exec: E, entry: Entry<'_>, now: i64) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor, action, target_kind, target_id, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(entry.tenant_id)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.target_kind)
    .bind(entry.target_id)
    .bind(entry.detail.to_string())
    .bind(now)
    .execute(exec)
    .await?;
    Ok(())
}

/// Convenience for callers holding a `Db`.
pub async fn record_db(db: &Db, entry: Entry<'_>, now: i64) -> Result<(), sqlx::Error> {
    record(&db.pool, entry, now).await
}
