//! API keys: `nk_…` tokens bound to a tenant and a role, stored by their SHA-256, optionally
//! expiring, revocable. The one writer of the `api_keys` table.

use crate::engine::auth::{AuthVia, Principal};
use crate::engine::db::{get_i64, get_opt_i64, get_str, Db};
use crate::engine::new_id;
use crate::model::Role;
use sqlx::any::AnyRow;
use sqlx::AnyPool;

/// How often `last_used_at` is written at most per key (not on every request).
pub const USED_EVERY_MS: i64 = 60_000;

/// A key to store.
pub struct NewKey<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// SHA-256 of the key.
    pub key_hash: &'a str,
    /// Its first characters, to recognise it in lists.
    pub prefix: &'a str,
    /// Who created it: an email, or `cli`.
    pub created_by: &'a str,
    /// When it stops working.
    pub expires_at: Option<i64>,
    /// Now.
    pub now: i64,
}

/// Stores a key's hash; answers its id.
pub async fn insert(db: &Db, k: &NewKey<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, role, key_hash, prefix, created_at, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(k.tenant_id)
    .bind(k.name)
    .bind(k.role.as_str())
    .bind(k.key_hash)
    .bind(k.prefix)
    .bind(k.now)
    .bind(k.created_by)
    .bind(k.expires_at)
    .execute(&db.pool)
    .await?;
    Ok(id)
}

/// A key as listed.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// First characters.
    pub prefix: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// Epoch ms.
    pub last_used_at: Option<i64>,
    /// Epoch ms.
    pub expires_at: Option<i64>,
}

fn from_row(r: &AnyRow) -> KeyRow {
    KeyRow {
        id: get_str(r, "id"),
        tenant_id: get_str(r, "tenant_id"),
        name: get_str(r, "name"),
        role: get_str(r, "role").parse().unwrap_or(Role::Viewer),
        prefix: get_str(r, "prefix"),
        created_at: get_i64(r, "created_at"),
        created_by: get_str(r, "created_by"),
        last_used_at: get_opt_i64(r, "last_used_at"),
        expires_at: get_opt_i64(r, "expires_at"),
    }
}

const COLS: &str = "id, tenant_id, name, role, prefix, created_at, created_by, last_used_at, expires_at";

/// The tenant's keys that are not revoked (all tenants' when `tenant_id` is None), newest first.
pub async fn list(pool: &AnyPool, tenant_id: Option<&str>) -> Result<Vec<KeyRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM api_keys WHERE revoked_at IS NULL AND ($1 = '' OR tenant_id = $1) ORDER BY created_at DESC, id"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.unwrap_or(""))
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect())
}

/// One unrevoked key of the tenant.
pub async fn get(pool: &AnyPool, tenant_id: &str, id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM api_keys WHERE revoked_at IS NULL AND tenant_id = $1 AND id = $2");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(from_row))
}

/// Revokes a key (of the tenant, or of any tenant when `tenant_id` is None); false when there was
/// no such live key. Takes effect on the key's next request.
pub async fn revoke(pool: &AnyPool, tenant_id: Option<&str>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL AND ($3 = '' OR tenant_id = $3)",
    )
    .bind(now)
    .bind(id)
    .bind(tenant_id.unwrap_or(""))
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The principal of a known, unrevoked, unexpired key; records its use at most once a minute.
pub async fn find_principal(db: &Db, key_hash: &str, now: i64) -> Result<Option<Principal>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT k.id, k.name, k.role, k.last_used_at, t.id AS tenant_id, t.slug, t.name AS tenant_name \
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)",
    )
    .bind(key_hash)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    if get_opt_i64(&r, "last_used_at").is_none_or(|t| now - t >= USED_EVERY_MS) {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(now)
        .bind(get_str(&r, "id"))
        .bind(now - USED_EVERY_MS)
        .execute(&db.pool)
        .await?;
    }
    Ok(Some(Principal {
        tenant_id: get_str(&r, "tenant_id"),
        tenant_slug: get_str(&r, "slug"),
        tenant_name: get_str(&r, "tenant_name"),
        user_id: None,
        actor: format!("apikey:{}", get_str(&r, "name")),
        role: get_str(&r, "role").parse().unwrap_or(Role::Viewer),
        via: AuthVia::ApiKey,
        session_hash: None,
    }))
}
