//! The tenant's catalogue: segments, channels, offers, models, experiments, connectors, pipelines.

use crate::engine::db::{bulk_insert, get_i64, get_str, Db, Val};

/// A segment of customers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// Id.
    pub id: String,
    /// Tenant-unique key chosen by the caller.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Number of customers.
    pub size: i64,
}

/// A channel (web, email, …).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// Id.
    pub id: String,
    /// Tenant-unique key.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// An offer with its budget.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// Id.
    pub id: String,
    /// Tenant-unique key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Category.
    pub category: String,
    /// `active`, `paused` or `retired`.
    pub status: String,
    /// Daily budget in cents.
    pub daily_budget_cents: i64,
    /// Lifetime budget in cents.
    pub lifetime_budget_cents: i64,
    /// Spent so far in cents.
    pub spent_cents: i64,
}

/// Inserts segments.
pub async fn insert_segments(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    items: &[Segment],
    now: i64,
) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<Val>> = items
        .iter()
        .map(|s| {
            vec![
                Val::S(s.id.clone()),
                Val::S(tenant_id.into()),
                Val::S(s.key.clone()),
                Val::S(s.name.clone()),
                Val::I(s.size),
                Val::I(now),
            ]
        })
        .collect();
    bulk_insert(conn, "INSERT INTO segments (id, tenant_id, key, name, size, created_at)", "", &rows).await
}

/// Inserts channels.
pub async fn insert_channels(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    items: &[Channel],
    now: i64,
) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<Val>> = items
        .iter()
        .map(|c| {
            vec![
                Val::S(c.id.clone()),
                Val::S(tenant_id.into()),
                Val::S(c.key.clone()),
                Val::S(c.name.clone()),
                Val::I(now),
            ]
        })
        .collect();
    bulk_insert(conn, "INSERT INTO channels (id, tenant_id, key, name, created_at)", "", &rows).await
}

/// Inserts offers.
pub async fn insert_offers(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    items: &[Offer],
    now: i64,
) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<Val>> = items
        .iter()
        .map(|o| {
            vec![
                Val::S(o.id.clone()),
                Val::S(tenant_id.into()),
                Val::S(o.key.clone()),
                Val::S(o.name.clone()),
                Val::S(o.category.clone()),
                Val::S(o.status.clone()),
                Val::I(o.daily_budget_cents),
                Val::I(o.lifetime_budget_cents),
                Val::I(o.spent_cents),
                Val::I(now),
            ]
        })
        .collect();
    bulk_insert(
        conn,
        "INSERT INTO offers (id, tenant_id, key, name, category, status, daily_budget_cents, \
         lifetime_budget_cents, spent_cents, created_at)",
        "",
        &rows,
    )
    .await
}

/// The tenant's segments, largest first.
pub async fn list_segments(db: &Db, tenant_id: &str) -> Result<Vec<Segment>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, key, name, size FROM segments WHERE tenant_id = $1 ORDER BY size DESC, name")
        .bind(tenant_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| Segment {
            id: get_str(r, "id"),
            key: get_str(r, "key"),
            name: get_str(r, "name"),
            size: get_i64(r, "size"),
        })
        .collect())
}

/// The tenant's channels by name.
pub async fn list_channels(db: &Db, tenant_id: &str) -> Result<Vec<Channel>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, key, name FROM channels WHERE tenant_id = $1 ORDER BY name")
        .bind(tenant_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| Channel { id: get_str(r, "id"), key: get_str(r, "key"), name: get_str(r, "name") })
        .collect())
}

/// The tenant's offers by name.
pub async fn list_offers(db: &Db, tenant_id: &str) -> Result<Vec<Offer>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, key, name, category, status, daily_budget_cents, lifetime_budget_cents, spent_cents \
         FROM offers WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(tenant_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Offer {
            id: get_str(r, "id"),
            key: get_str(r, "key"),
            name: get_str(r, "name"),
            category: get_str(r, "category"),
            status: get_str(r, "status"),
            daily_budget_cents: get_i64(r, "daily_budget_cents"),
            lifetime_budget_cents: get_i64(r, "lifetime_budget_cents"),
            spent_cents: get_i64(r, "spent_cents"),
        })
        .collect())
}
