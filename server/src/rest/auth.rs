//! `POST /auth/login`, `POST /auth/logout`, `GET /me`.

use super::extract::{Auth, Body};
use app::engine::auth as engine_auth;
use app::engine::AppState;
use app::model::{AppError, Me};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// The sign-in body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The user's email.
    email: String,
    /// Their password.
    password: String,
}

/// Signs in; sets the session cookie and answers the user.
#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()), request_body = LoginBody,
    responses((status = 200, description = "Signed in; the session cookie is set", body = Me)))]
pub async fn login(
    State(state): State<AppState>,
    client: Option<axum::Extension<engine_auth::Client>>,
    Body(body): Body<LoginBody>,
) -> Result<Response, AppError> {
    let client = client.map(|c| c.0).unwrap_or_default();
    let session = engine_auth::login(&state, &body.email, &body.password, &client).await?;
    let principal =
        engine_auth::principal_from_session(&state, &session.token).await?.ok_or_else(AppError::internal)?;
    let cookie = engine_auth::session_cookie(&session.token, session.max_age_secs, state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(principal.me())).into_response())
}

/// Signs out (idempotent); clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(()),
    responses((status = 204, description = "Signed out; the session cookie is cleared")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(engine_auth::session_token_from_cookies);
    if let Some(t) = token {
        engine_auth::logout(&state.db, t).await?;
    }
    let clear = engine_auth::clear_session_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "auth", security(("apiKey" = ["viewer"]), ("session" = ["viewer"])),
    responses((status = 200, description = "The caller", body = Me)))]
pub async fn me(Auth(p): Auth) -> Json<Me> {
    Json(p.me())
}
