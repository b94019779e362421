//! `destinations`, the one writer: notification destinations with their public configuration
//! (JSON) and sealed secrets. Deleting is soft (the row stays, secrets dropped) so runs that
//! referenced a destination can report it as skipped with a reason.

use crate::engine::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

/// A destination as stored (secrets still sealed).
#[derive(Debug, Clone)]
pub struct DestinationRow {
    /// Id.
    pub id: String,
    /// `slack`, `teams`, `email`, `webhook`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Not paused.
    pub enabled: bool,
    /// Public configuration (JSON text).
    pub config: String,
    /// Sealed secrets (AES-256-GCM), if any.
    pub secret_sealed: Option<String>,
    /// Soft-deleted at.
    pub deleted_at: Option<i64>,
    /// Last change, epoch ms.
    pub updated_at: i64,
}

const COLS: &str = "id, kind, name, enabled, config, secret_sealed, deleted_at, updated_at";

fn from_row(r: &AnyRow) -> DestinationRow {
    DestinationRow {
        id: get_str(r, "id"),
        kind: get_str(r, "kind"),
        name: get_str(r, "name"),
        enabled: get_i64(r, "enabled") != 0,
        config: get_str(r, "config"),
        secret_sealed: get_opt_str(r, "secret_sealed"),
        deleted_at: get_opt_i64(r, "deleted_at"),
        updated_at: get_i64(r, "updated_at"),
    }
}

/// The tenant's destinations that are not deleted, by name.
pub async fn list(pool: &AnyPool, tenant_id: &str) -> Result<Vec<DestinationRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM destinations WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY name, id");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(pool).await?.iter().map(from_row).collect())
}

/// One destination of the tenant, deleted or not.
pub async fn get(pool: &AnyPool, tenant_id: &str, id: &str) -> Result<Option<DestinationRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM destinations WHERE tenant_id = $1 AND id = $2");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(from_row))
}

/// A destination's writable fields.
pub struct Fields<'a> {
    /// Name.
    pub name: &'a str,
    /// Not paused.
    pub enabled: bool,
    /// Public configuration (JSON text).
    pub config: &'a str,
    /// Sealed secrets.
    pub secret_sealed: Option<&'a str>,
}

/// Inserts a destination.
pub async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    tenant_id: &str,
    kind: &str,
    f: &Fields<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO destinations (id, tenant_id, kind, name, enabled, config, secret_sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(kind)
    .bind(f.name)
    .bind(i64::from(f.enabled))
    .bind(f.config)
    .bind(f.secret_sealed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Updates a destination of the tenant.
pub async fn update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    f: &Fields<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE destinations SET name = $1, enabled = $2, config = $3, secret_sealed = $4, updated_at = $5 WHERE id = $6 AND tenant_id = $7",
    )
    .bind(f.name)
    .bind(i64::from(f.enabled))
    .bind(f.config)
    .bind(f.secret_sealed)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Soft-deletes a destination: paused, secrets dropped, row kept.
pub async fn soft_delete(conn: &mut AnyConnection, tenant_id: &str, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE destinations SET deleted_at = $1, enabled = 0, secret_sealed = NULL, updated_at = $1 WHERE id = $2 AND tenant_id = $3",
    )
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Destinations whose secrets are sealed the first way (`v1:`): (tenant, id, sealed).
pub async fn legacy_secrets(pool: &AnyPool) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT tenant_id, id, secret_sealed FROM destinations WHERE secret_sealed LIKE 'v1:%'")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|r| (get_str(r, "tenant_id"), get_str(r, "id"), get_str(r, "secret_sealed"))).collect())
}

/// Swaps a destination's sealed secret, only if it is still `old`.
pub async fn replace_secret(pool: &AnyPool, id: &str, old: &str, new: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE destinations SET secret_sealed = $1 WHERE id = $2 AND secret_sealed = $3")
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(pool)
        .await?;
    Ok(())
}
