//! Users: people who sign in with an email and password, one tenant each; the one writer of the
//! `users` table.

use crate::engine::db::{get_i64, get_opt_i64, get_str, Db};
use crate::engine::new_id;
use crate::model::Role;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

/// A user row (with the password hash; never leaves the server).
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Lowercased email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// When an admin disabled them (None: active).
    pub disabled_at: Option<i64>,
    /// Last successful sign-in.
    pub last_login_at: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
}

const COLS: &str = "id, tenant_id, email, name, password_hash, role, disabled_at, last_login_at, created_at";

fn from_row(r: &AnyRow) -> User {
    User {
        id: get_str(r, "id"),
        tenant_id: get_str(r, "tenant_id"),
        email: get_str(r, "email"),
        name: get_str(r, "name"),
        password_hash: get_str(r, "password_hash"),
        role: get_str(r, "role").parse().unwrap_or(Role::Viewer),
        disabled_at: get_opt_i64(r, "disabled_at"),
        last_login_at: get_opt_i64(r, "last_login_at"),
        created_at: get_i64(r, "created_at"),
    }
}

/// Creates a user; the email is stored lowercased and is unique across tenants.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<User, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    insert(&mut conn, tenant_id, email, name, password_hash, role, now).await
}

/// [`create`] on a connection or transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    tenant_id: &str,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<User, sqlx::Error> {
    let id = new_id();
    let email = email.trim().to_ascii_lowercase();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&email)
    .bind(name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(User {
        id,
        tenant_id: tenant_id.into(),
        email,
        name: name.into(),
        password_hash: password_hash.into(),
        role,
        disabled_at: None,
        last_login_at: None,
        created_at: now,
    })
}

/// Finds a user by (lowercased) email, in any tenant (sign-in).
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM users WHERE email = $1");
    let row =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email.trim().to_ascii_lowercase()).fetch_optional(&db.pool).await?;
    Ok(row.as_ref().map(from_row))
}

/// One user of the tenant.
pub async fn get<'e, E>(exec: E, tenant_id: &str, id: &str) -> Result<Option<User>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 AND id = $2");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row))
}

/// The tenant's users, by email.
pub async fn list(pool: &AnyPool, tenant_id: &str) -> Result<Vec<User>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 ORDER BY email");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(pool).await?.iter().map(from_row).collect())
}

/// Every user, by tenant and email (the CLI).
pub async fn list_all(pool: &AnyPool) -> Result<Vec<User>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM users ORDER BY tenant_id, email");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?.iter().map(from_row).collect())
}

/// Active admins of the tenant (inside the transaction that changes one of them).
pub async fn count_active_admins(conn: &mut AnyConnection, tenant_id: &str) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND role = $2 AND disabled_at IS NULL")
        .bind(tenant_id)
        .bind(Role::Admin.as_str())
        .fetch_one(conn)
        .await?;
    Ok(get_i64(&r, "n"))
}

/// What an admin may change about a user.
pub struct Change<'a> {
    /// Display name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Disabled since (None: active).
    pub disabled_at: Option<i64>,
}

/// Updates a user of the tenant.
pub async fn update(conn: &mut AnyConnection, tenant_id: &str, id: &str, c: &Change<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $1, role = $2, disabled_at = $3 WHERE id = $4 AND tenant_id = $5")
        .bind(c.name)
        .bind(c.role.as_str())
        .bind(c.disabled_at)
        .bind(id)
        .bind(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets a user's password hash.
pub async fn set_password(conn: &mut AnyConnection, id: &str, password_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(id).execute(conn).await?;
    Ok(())
}

/// Records a successful sign-in.
pub async fn record_login(pool: &AnyPool, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2").bind(now).bind(id).execute(pool).await?;
    Ok(())
}

/// Removes a user of the tenant (their sessions go with them).
pub async fn delete(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1 AND tenant_id = $2").bind(id).bind(tenant_id).execute(conn).await?;
    Ok(())
}
