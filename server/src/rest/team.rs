//! Team and access: `/users`, `/users/{id}`, `/apikeys`, `/apikeys/{id}` (admins only — everyone
//! else gets 403, another tenant's ids 404), and the caller's own `/me/password` and
//! `/me/sessions`. Handlers are thin; the rules live in `engine::team`.

use super::extract::{Auth, Body};
use app::engine::{auth as engine_auth, team, AppState};
use app::model::team::{ApiKeyInput, NewApiKey, PasswordChange, UserInput, UserView};
use app::model::AppError;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The tenant's users.
pub async fn list_users(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": team::list_users(&s, &p).await? })))
}

/// Adds a user.
pub async fn create_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<UserInput>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    Ok((StatusCode::CREATED, Json(team::create_user(&s, &p, b).await?)))
}

/// Changes a user's role, name or disabled flag.
pub async fn update_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(b): Body<UserInput>,
) -> Result<Json<UserView>, AppError> {
    Ok(Json(team::update_user(&s, &p, &id, b).await?))
}

/// Removes a user.
pub async fn delete_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    team::delete_user(&s, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's API keys.
pub async fn list_keys(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": team::list_keys(&s, &p).await? })))
}

/// Creates an API key; the key is answered once, as `key`.
pub async fn create_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<ApiKeyInput>,
) -> Result<(StatusCode, Json<NewApiKey>), AppError> {
    Ok((StatusCode::CREATED, Json(team::create_key(&s, &p, b).await?)))
}

/// Revokes an API key.
pub async fn revoke_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    team::revoke_key(&s, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password; every other session of theirs ends.
pub async fn change_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<PasswordChange>,
) -> Result<StatusCode, AppError> {
    team::change_password(&s, &p, b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's sessions.
pub async fn my_sessions(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "data": team::my_sessions(&s, &p).await? })))
}

/// Signs the caller out everywhere, this session included; clears the cookie.
pub async fn sign_out_everywhere(State(s): State<AppState>, Auth(p): Auth) -> Result<Response, AppError> {
    let ended = team::sign_out_everywhere(&s, &p).await?;
    let clear = engine_auth::clear_session_cookie(s.config.secure_cookies);
    Ok(([(header::SET_COOKIE, clear)], Json(json!({ "sessionsEnded": ended }))).into_response())
}
