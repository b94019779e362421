//! Users: people who sign in with an email and password.

use crate::engine::db::{get_str, Db};
use crate::engine::new_id;
use crate::model::Role;

/// A user row (with the password hash; never leaves the server).
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Lowercased email.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
}

/// Creates a user; the email is stored lowercased and is unique across tenants.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    email: &str,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<User, sqlx::Error> {
    let id = new_id();
    let email = email.trim().to_ascii_lowercase();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&email)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(User { id, tenant_id: tenant_id.into(), email, password_hash: password_hash.into(), role })
}

/// Finds a user by (lowercased) email.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query("SELECT id, tenant_id, email, password_hash, role FROM users WHERE email = $1")
        .bind(email.trim().to_ascii_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| User {
        id: get_str(&r, "id"),
        tenant_id: get_str(&r, "tenant_id"),
        email: get_str(&r, "email"),
        password_hash: get_str(&r, "password_hash"),
        role: get_str(&r, "role").parse().unwrap_or(Role::Viewer),
    }))
}
