//! Tenants: organisations; every other row belongs to one.

use crate::engine::db::{get_str, Db};
use crate::engine::new_id;

/// A tenant row.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Id.
    pub id: String,
    /// Unique short name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// Creates a tenant; a duplicate slug is a unique violation.
pub async fn create(db: &Db, slug: &str, name: &str, now: i64) -> Result<Tenant, sqlx::Error> {
    let id = new_id();
    sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(slug)
        .bind(name)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(Tenant { id, slug: slug.into(), name: name.into() })
}

/// Finds a tenant by slug.
pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>, sqlx::Error> {
    let row =
        sqlx::query("SELECT id, slug, name FROM tenants WHERE slug = $1").bind(slug).fetch_optional(&db.pool).await?;
    Ok(row.map(|r| Tenant { id: get_str(&r, "id"), slug: get_str(&r, "slug"), name: get_str(&r, "name") }))
}

/// Every tenant, by slug.
pub async fn list(db: &Db) -> Result<Vec<Tenant>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, slug, name FROM tenants ORDER BY slug").fetch_all(&db.pool).await?;
    Ok(rows
        .iter()
        .map(|r| Tenant { id: get_str(r, "id"), slug: get_str(r, "slug"), name: get_str(r, "name") })
        .collect())
}

/// How many tenants exist (0 on a fresh database).
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM tenants").fetch_one(&db.pool).await?;
    Ok(crate::engine::db::get_i64(&row, "n"))
}

/// Serialises counted inserts of one tenant (e.g. the schedule cap) inside a transaction: a
/// no-op update takes the tenant row's lock on PostgreSQL and the write lock on SQLite, so a
/// second transaction counting the same tenant waits for the first to commit.
pub async fn lock(conn: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tenants SET slug = slug WHERE id = $1").bind(tenant_id).execute(conn).await?;
    Ok(())
}
