//! The REST API under `/api/v1` and the operational endpoints. Handlers are thin: extract,
//! authorise, call the engine, answer; errors use the one envelope of PRODUCT §11.

pub mod auth;
pub mod catalogue;
pub mod extract;
pub mod ops;

use app::engine::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/segments", get(catalogue::list_segments).post(catalogue::create_segment))
        .route("/segments/{id}", get(catalogue::get_segment))
        .route("/channels", get(catalogue::list_channels).post(catalogue::create_channel))
        .route("/offers", get(catalogue::list_offers).post(catalogue::create_offer))
        .fallback(extract::not_found)
}

/// `/healthz` and `/metrics`.
pub fn ops_router() -> Router<AppState> {
    Router::new().route("/healthz", get(ops::healthz)).route("/metrics", get(ops::metrics))
}
