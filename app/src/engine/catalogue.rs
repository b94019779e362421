//! Catalogue service: validates and creates a tenant's segments, channels and offers, so a tenant
//! that is not the demo one can describe its own world before ingesting events.

use super::db::is_unique_violation;
use super::store::catalogue::{self as repo, Channel, Offer, Segment};
use super::{new_id, Db};
use crate::model::{AppError, FieldError};
use serde::Deserialize;

/// `POST /segments` body.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSegment {
    /// Tenant-unique key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Customers in the segment.
    #[serde(default)]
    pub size: i64,
}

/// `POST /channels` body.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewChannel {
    /// Tenant-unique key.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// `POST /offers` body.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOffer {
    /// Tenant-unique key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Category.
    pub category: String,
    /// `active` (default), `paused` or `retired`.
    #[serde(default = "active")]
    pub status: String,
    /// Daily budget in cents.
    #[serde(default)]
    pub daily_budget_cents: i64,
    /// Lifetime budget in cents.
    #[serde(default)]
    pub lifetime_budget_cents: i64,
}

fn active() -> String {
    "active".into()
}

fn check_key(key: &str, errs: &mut Vec<FieldError>) {
    let ok = (1..=64).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        errs.push(FieldError { field: "key".into(), message: "1–64 characters of a–z, 0–9, '_' or '-'".into() });
    }
}

fn check_text(field: &str, v: &str, max: usize, errs: &mut Vec<FieldError>) {
    let n = v.trim().chars().count();
    if n == 0 || n > max {
        errs.push(FieldError { field: field.into(), message: format!("required, at most {max} characters") });
    }
}

fn check_non_negative(field: &str, v: i64, errs: &mut Vec<FieldError>) {
    if v < 0 {
        errs.push(FieldError { field: field.into(), message: "must not be negative".into() });
    }
}

fn finish(errs: Vec<FieldError>) -> Result<(), AppError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errs))
    }
}

fn conflict<'a>(kind: &str, key: &'a str) -> impl FnOnce(sqlx::Error) -> AppError + 'a {
    let kind = kind.to_string();
    move |e| {
        if is_unique_violation(&e) {
            AppError::conflict(format!("a {kind} with key '{key}' already exists"))
        } else {
            e.into()
        }
    }
}

/// Validates and creates a segment.
pub async fn create_segment(db: &Db, tenant_id: &str, body: NewSegment, now: i64) -> Result<Segment, AppError> {
    let mut errs = Vec::new();
    check_key(&body.key, &mut errs);
    check_text("name", &body.name, 200, &mut errs);
    check_non_negative("size", body.size, &mut errs);
    finish(errs)?;
    let seg = Segment { id: new_id(), key: body.key.clone(), name: body.name.trim().into(), size: body.size };
    let mut conn = db.pool.acquire().await?;
    repo::insert_segments(&mut conn, tenant_id, std::slice::from_ref(&seg), now)
        .await
        .map_err(conflict("segment", &body.key))?;
    Ok(seg)
}

/// Validates and creates a channel.
pub async fn create_channel(db: &Db, tenant_id: &str, body: NewChannel, now: i64) -> Result<Channel, AppError> {
    let mut errs = Vec::new();
    check_key(&body.key, &mut errs);
    check_text("name", &body.name, 200, &mut errs);
    finish(errs)?;
    let ch = Channel { id: new_id(), key: body.key.clone(), name: body.name.trim().into() };
    let mut conn = db.pool.acquire().await?;
    repo::insert_channels(&mut conn, tenant_id, std::slice::from_ref(&ch), now)
        .await
        .map_err(conflict("channel", &body.key))?;
    Ok(ch)
}

/// Validates and creates an offer.
pub async fn create_offer(db: &Db, tenant_id: &str, body: NewOffer, now: i64) -> Result<Offer, AppError> {
    let mut errs = Vec::new();
    check_key(&body.key, &mut errs);
    check_text("name", &body.name, 200, &mut errs);
    check_text("category", &body.category, 100, &mut errs);
    if !["active", "paused", "retired"].contains(&body.status.as_str()) {
        errs.push(FieldError { field: "status".into(), message: "one of active, paused, retired".into() });
    }
    check_non_negative("dailyBudgetCents", body.daily_budget_cents, &mut errs);
    check_non_negative("lifetimeBudgetCents", body.lifetime_budget_cents, &mut errs);
    finish(errs)?;
    let offer = Offer {
        id: new_id(),
        key: body.key.clone(),
        name: body.name.trim().into(),
        category: body.category.trim().into(),
        status: body.status,
        daily_budget_cents: body.daily_budget_cents,
        lifetime_budget_cents: body.lifetime_budget_cents,
        spent_cents: 0,
    };
    let mut conn = db.pool.acquire().await?;
    repo::insert_offers(&mut conn, tenant_id, std::slice::from_ref(&offer), now)
        .await
        .map_err(conflict("offer", &body.key))?;
    Ok(offer)
}
