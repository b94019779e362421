//! The REST API under `/api/v1` and the operational endpoints. Handlers are thin: extract,
//! authorise, call the engine, answer; errors use the one envelope of PRODUCT §11.

pub mod ai;
pub mod auth;
pub mod catalogue;
pub mod dashboards;
pub mod extract;
pub mod ingest;
pub mod ops;
pub mod reports;

use app::engine::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/dashboards/{key}", get(dashboards::get))
        .route("/segments", get(catalogue::list_segments).post(catalogue::create_segment))
        .route("/segments/{id}", get(catalogue::get_segment))
        .route("/channels", get(catalogue::list_channels).post(catalogue::create_channel))
        .route("/offers", get(catalogue::list_offers).post(catalogue::create_offer))
        .route("/interactions", post(ingest::interactions))
        .route("/decisions", post(ingest::decisions))
        .route("/reports/preview", post(reports::preview))
        .route("/ai/provider", get(ai::get).put(ai::put))
        .route("/ai/provider/test", post(ai::test))
        .fallback(extract::not_found)
}

/// `/healthz` and `/metrics`.
pub fn ops_router() -> Router<AppState> {
    Router::new().route("/healthz", get(ops::healthz)).route("/metrics", get(ops::metrics))
}
