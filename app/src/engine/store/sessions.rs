//! Sessions: a signed-in browser, stored by the SHA-256 of its cookie token.

use crate::engine::auth::{AuthVia, Principal};
use crate::engine::db::{get_str, Db};
use crate::model::Role;

/// Stores a new session.
pub async fn insert(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    tenant_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(tenant_id)
    .bind(now)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The principal of a live (unexpired) session.
pub async fn find_principal(db: &Db, token_hash: &str, now: i64) -> Result<Option<Principal>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id AS user_id, u.email, u.role, t.id AS tenant_id, t.slug, t.name \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| Principal {
        tenant_id: get_str(&r, "tenant_id"),
        tenant_slug: get_str(&r, "slug"),
        tenant_name: get_str(&r, "name"),
        user_id: Some(get_str(&r, "user_id")),
        actor: get_str(&r, "email"),
        role: get_str(&r, "role").parse().unwrap_or(Role::Viewer),
        via: AuthVia::Session,
    }))
}

/// Deletes a session (sign-out).
pub async fn delete(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&db.pool).await?;
    Ok(())
}

/// Deletes expired sessions; returns how many.
pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&db.pool).await?;
    Ok(r.rows_affected())
}
