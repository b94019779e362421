//! The REST API under `/api/v1` and the operational endpoints. Handlers are thin: extract,
//! authorise, call the engine, answer; errors use the one envelope of PRODUCT §11.

pub mod ai;
pub mod auth;
pub mod catalogue;
pub mod cron;
pub mod dashboards;
pub mod destinations;
pub mod exports;
pub mod extract;
pub mod ingest;
pub mod openapi;
pub mod ops;
pub mod runs;
pub mod schedules;
pub mod team;
pub mod templates;

use app::engine::AppState;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/me/password", put(team::change_password))
        .route("/me/sessions", get(team::my_sessions).delete(team::sign_out_everywhere))
        .route("/users", get(team::list_users).post(team::create_user))
        .route("/users/{id}", patch(team::update_user).delete(team::delete_user))
        .route("/apikeys", get(team::list_keys).post(team::create_key))
        .route("/apikeys/{id}", delete(team::revoke_key))
        .route("/dashboards/{key}", get(dashboards::get))
        .route("/segments", get(catalogue::list_segments).post(catalogue::create_segment))
        .route("/segments/{id}", get(catalogue::get_segment))
        .route("/channels", get(catalogue::list_channels).post(catalogue::create_channel))
        .route("/offers", get(catalogue::list_offers).post(catalogue::create_offer))
        .route("/interactions", post(ingest::interactions))
        .route("/decisions", post(ingest::decisions))
        .route("/reports/preview", post(exports::preview))
        .route("/ai/provider", get(ai::get).put(ai::put))
        .route("/ai/provider/test", post(ai::test))
        .route("/notifications/destinations", get(destinations::list).post(destinations::create))
        .route(
            "/notifications/destinations/{id}",
            get(destinations::get).patch(destinations::update).delete(destinations::delete),
        )
        .route("/notifications/destinations/{id}/test", post(destinations::test))
        .route("/notifications/destinations/{id}/preview", post(destinations::preview))
        .route("/reports/templates", get(templates::list).post(templates::create))
        .route("/reports/templates/{id}", get(templates::get).patch(templates::update).delete(templates::delete))
        .route("/reports/templates/{id}/run-now", post(runs::run_now))
        .route("/reports/schedules", get(schedules::list).post(schedules::create))
        .route("/reports/schedules/preview", get(schedules::preview))
        .route("/reports/schedules/{id}", get(schedules::get).patch(schedules::update).delete(schedules::delete))
        .route("/reports/runs", get(runs::list))
        .route("/reports/runs/{id}", get(runs::get))
        .route("/reports/runs/{id}/artifacts/{format}", get(runs::artifact))
        .route("/reports/runs/{id}/charts/{n}", get(runs::chart))
        .route("/reports/runs/{id}/deliveries/{delivery_id}/resend", post(runs::resend))
        .route_layer(axum::middleware::from_fn(crate::middleware::refuse_nul_now))
        .route_layer(axum::middleware::from_fn(openapi::require_role))
        .fallback(extract::not_found)
}

/// `/healthz` and `/metrics`.
pub fn ops_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/api/cron/tick", post(cron::tick))
}
