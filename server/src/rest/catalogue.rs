//! `GET/POST /segments`, `/channels`, `/offers` and `GET /segments/{id}`: a tenant's catalogue.
//! Lists: any role. Create: editor, or an API key with the editor role.

use super::extract::{Auth, Body};
use app::engine::catalogue::{self, NewChannel, NewOffer, NewSegment};
use app::engine::store::catalogue as repo;
use app::engine::AppState;
use app::model::{AppError, Role};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

fn segment_json(s: &repo::Segment) -> Value {
    json!({"id": s.id, "key": s.key, "name": s.name, "size": s.size})
}

fn channel_json(c: &repo::Channel) -> Value {
    json!({"id": c.id, "key": c.key, "name": c.name})
}

fn offer_json(o: &repo::Offer) -> Value {
    json!({
        "id": o.id, "key": o.key, "name": o.name, "category": o.category, "status": o.status,
        "dailyBudgetCents": o.daily_budget_cents, "lifetimeBudgetCents": o.lifetime_budget_cents,
        "spentCents": o.spent_cents,
    })
}

/// Lists segments.
pub async fn list_segments(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    let items = repo::list_segments(&s.db, &p.tenant_id).await?;
    Ok(Json(json!({ "data": items.iter().map(segment_json).collect::<Vec<_>>() })))
}

/// One segment of the caller's tenant; another tenant's id is 404.
pub async fn get_segment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let items = repo::list_segments(&s.db, &p.tenant_id).await?;
    items.iter().find(|x| x.id == id).map(|x| Json(segment_json(x))).ok_or_else(|| AppError::not_found("segment"))
}

/// Creates a segment.
pub async fn create_segment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<NewSegment>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let seg = catalogue::create_segment(&s.db, &p.tenant_id, body, s.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(segment_json(&seg))))
}

/// Lists channels.
pub async fn list_channels(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    let items = repo::list_channels(&s.db, &p.tenant_id).await?;
    Ok(Json(json!({ "data": items.iter().map(channel_json).collect::<Vec<_>>() })))
}

/// Creates a channel.
pub async fn create_channel(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<NewChannel>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let ch = catalogue::create_channel(&s.db, &p.tenant_id, body, s.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(channel_json(&ch))))
}

/// Lists offers.
pub async fn list_offers(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    let items = repo::list_offers(&s.db, &p.tenant_id).await?;
    Ok(Json(json!({ "data": items.iter().map(offer_json).collect::<Vec<_>>() })))
}

/// Creates an offer.
pub async fn create_offer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<NewOffer>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let o = catalogue::create_offer(&s.db, &p.tenant_id, body, s.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(offer_json(&o))))
}
