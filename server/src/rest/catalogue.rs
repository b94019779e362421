//! `GET/POST /segments`, `/channels`, `/offers` and `GET /segments/{id}`: a tenant's catalogue.
//! Lists: any role. Create: editor, or an API key with the editor role.

use super::extract::{Auth, Body, Ids};
use app::engine::catalogue::{self, NewChannel, NewOffer, NewSegment};
use app::engine::store::catalogue::{self as repo, Channel, Offer, Segment};
use app::engine::AppState;
use app::model::api::List;
use app::model::{AppError, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// The tenant's segments.
#[utoipa::path(get, path = "/segments", tag = "catalogue", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    responses((status = 200, description = "Segments", body = List<Segment>)))]
pub async fn list_segments(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<Segment>>, AppError> {
    Ok(Json(repo::list_segments(&s.db, &p.tenant_id).await?.into()))
}

/// One segment.
#[utoipa::path(get, path = "/segments/{id}", tag = "catalogue", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    params(("id" = String, Path, description = "Segment id")),
    responses((status = 200, description = "The segment", body = Segment)))]
pub async fn get_segment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<Json<Segment>, AppError> {
    let items = repo::list_segments(&s.db, &p.tenant_id).await?;
    items.into_iter().find(|x| x.id == id).map(Json).ok_or_else(|| AppError::not_found("segment"))
}

/// Creates a segment.
#[utoipa::path(post, path = "/segments", tag = "catalogue", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    request_body = NewSegment, responses((status = 201, description = "The segment", body = Segment)))]
pub async fn create_segment(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<NewSegment>,
) -> Result<(StatusCode, Json<Segment>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(catalogue::create_segment(&s.db, &p.tenant_id, body, s.clock.now_ms()).await?)))
}

/// The tenant's channels.
#[utoipa::path(get, path = "/channels", tag = "catalogue", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    responses((status = 200, description = "Channels", body = List<Channel>)))]
pub async fn list_channels(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<Channel>>, AppError> {
    Ok(Json(repo::list_channels(&s.db, &p.tenant_id).await?.into()))
}

/// Creates a channel.
#[utoipa::path(post, path = "/channels", tag = "catalogue", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    request_body = NewChannel, responses((status = 201, description = "The channel", body = Channel)))]
pub async fn create_channel(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<NewChannel>,
) -> Result<(StatusCode, Json<Channel>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(catalogue::create_channel(&s.db, &p.tenant_id, body, s.clock.now_ms()).await?)))
}

/// The tenant's offers.
#[utoipa::path(get, path = "/offers", tag = "catalogue", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    responses((status = 200, description = "Offers", body = List<Offer>)))]
pub async fn list_offers(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<Offer>>, AppError> {
    Ok(Json(repo::list_offers(&s.db, &p.tenant_id).await?.into()))
}

/// Creates an offer.
#[utoipa::path(post, path = "/offers", tag = "catalogue", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    request_body = NewOffer, responses((status = 201, description = "The offer", body = Offer)))]
pub async fn create_offer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<NewOffer>,
) -> Result<(StatusCode, Json<Offer>), AppError> {
    p.require(Role::Editor)?;
    Ok((StatusCode::CREATED, Json(catalogue::create_offer(&s.db, &p.tenant_id, body, s.clock.now_ms()).await?)))
}
