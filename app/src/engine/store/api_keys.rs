//! API keys: `nk_…` tokens bound to a tenant and a role, stored by their SHA-256.

use crate::engine::auth::{AuthVia, Principal};
use crate::engine::db::{get_str, Db};
use crate::engine::new_id;
use crate::model::Role;

/// Stores a key's hash; `prefix` is the first characters, kept to recognise the key in lists.
pub async fn insert(
    db: &Db,
    tenant_id: &str,
    name: &str,
    role: Role,
    key_hash: &str,
    prefix: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, role, key_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(name)
    .bind(role.as_str())
    .bind(key_hash)
    .bind(prefix)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(id)
}

/// The principal of a known, unrevoked key; records its last use.
pub async fn find_principal(db: &Db, key_hash: &str, now: i64) -> Result<Option<Principal>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT k.id, k.name, k.role, t.id AS tenant_id, t.slug, t.name AS tenant_name \
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(&db.pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(get_str(&r, "id"))
        .execute(&db.pool)
        .await?;
    Ok(Some(Principal {
        tenant_id: get_str(&r, "tenant_id"),
        tenant_slug: get_str(&r, "slug"),
        tenant_name: get_str(&r, "tenant_name"),
        user_id: None,
        actor: format!("apikey:{}", get_str(&r, "name")),
        role: get_str(&r, "role").parse().unwrap_or(Role::Viewer),
        via: AuthVia::ApiKey,
    }))
}
