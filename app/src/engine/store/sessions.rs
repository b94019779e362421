//! Sessions: a signed-in browser, stored by the SHA-256 of its cookie token, with a public id (to
//! list and end it), when it was last seen and the browser that opened it. The one writer of the
//! `sessions` table.

use crate::engine::auth::{AuthVia, Principal};
use crate::engine::db::{get_i64, get_opt_i64, get_opt_str, get_str, Db};
use crate::model::Role;
use sqlx::{AnyConnection, AnyPool};

/// How often `last_seen_at` is written at most (one write a minute per session, not per request).
pub const SEEN_EVERY_MS: i64 = 60_000;

/// A session to store.
pub struct NewSession<'a> {
    /// SHA-256 of the cookie token.
    pub token_hash: &'a str,
    /// Public handle.
    pub id: &'a str,
    /// The user.
    pub user_id: &'a str,
    /// Their tenant.
    pub tenant_id: &'a str,
    /// The browser's User-Agent (shortened).
    pub user_agent: Option<&'a str>,
    /// Now.
    pub now: i64,
    /// Expiry.
    pub expires_at: i64,
}

/// Stores a new session.
pub async fn insert(db: &Db, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, id, user_id, tenant_id, created_at, last_seen_at, user_agent, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
    )
    .bind(s.token_hash)
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.tenant_id)
    .bind(s.now)
    .bind(s.user_agent)
    .bind(s.expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The principal of a live (unexpired) session of an active user; notes the visit at most once
/// a minute.
pub async fn find_principal(db: &Db, token_hash: &str, now: i64) -> Result<Option<Principal>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id AS user_id, u.email, u.role, t.id AS tenant_id, t.slug, t.name, s.last_seen_at \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    if get_opt_i64(&r, "last_seen_at").is_none_or(|t| now - t >= SEEN_EVERY_MS) {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND (last_seen_at IS NULL OR last_seen_at <= $3)")
            .bind(now)
            .bind(token_hash)
            .bind(now - SEEN_EVERY_MS)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(Principal {
        tenant_id: get_str(&r, "tenant_id"),
        tenant_slug: get_str(&r, "slug"),
        tenant_name: get_str(&r, "name"),
        user_id: Some(get_str(&r, "user_id")),
        actor: get_str(&r, "email"),
        role: get_str(&r, "role").parse().unwrap_or(Role::Viewer),
        via: AuthVia::Session,
        session_hash: Some(token_hash.to_string()),
    }))
}

/// A session as listed to its user.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Public handle (older sessions: the first characters of their hash).
    pub id: String,
    /// SHA-256 of the token (to tell the current one; never answered).
    pub token_hash: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub last_seen_at: Option<i64>,
    /// Epoch ms.
    pub expires_at: i64,
    /// The browser.
    pub user_agent: Option<String>,
}

/// A user's live sessions, newest first.
pub async fn list_for_user(pool: &AnyPool, user_id: &str, now: i64) -> Result<Vec<SessionRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, token_hash, created_at, last_seen_at, expires_at, user_agent FROM sessions \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let hash = get_str(r, "token_hash");
            SessionRow {
                id: get_opt_str(r, "id").unwrap_or_else(|| hash.chars().take(16).collect()),
                token_hash: hash,
                created_at: get_i64(r, "created_at"),
                last_seen_at: get_opt_i64(r, "last_seen_at"),
                expires_at: get_i64(r, "expires_at"),
                user_agent: get_opt_str(r, "user_agent"),
            }
        })
        .collect())
}

/// Ends every session of a user but `keep` (a token hash), if given; returns how many.
pub async fn delete_for_user(conn: &mut AnyConnection, user_id: &str, keep: Option<&str>) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
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
