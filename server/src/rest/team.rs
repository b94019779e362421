//! Team and access: `/users`, `/users/{id}`, `/apikeys`, `/apikeys/{id}` (admins only — everyone
//! else gets 403, another tenant's ids 404), and the caller's own `/me/password` and
//! `/me/sessions`. Handlers are thin; the rules live in `engine::team`.

use super::extract::{Auth, Body, Ids};
use app::engine::{auth as engine_auth, team, AppState};
use app::model::api::{List, SessionsEnded};
use app::model::team::{ApiKeyInput, ApiKeyView, NewApiKey, PasswordChange, SessionView, UserInput, UserView};
use app::model::AppError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The tenant's users.
#[utoipa::path(get, path = "/users", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    responses((status = 200, description = "The tenant's users", body = List<UserView>)))]
pub async fn list_users(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<UserView>>, AppError> {
    Ok(Json(team::list_users(&s, &p).await?.into()))
}

/// Adds a user.
#[utoipa::path(post, path = "/users", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    request_body = UserInput, responses((status = 201, description = "The user was added", body = UserView)))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<UserInput>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    Ok((StatusCode::CREATED, Json(team::create_user(&s, &p, b).await?)))
}

/// Changes a user's role, name or disabled flag.
#[utoipa::path(patch, path = "/users/{id}", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    params(("id" = String, Path, description = "User id")), request_body = UserInput,
    responses((status = 200, description = "The user as changed", body = UserView)))]
pub async fn update_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
    Body(b): Body<UserInput>,
) -> Result<Json<UserView>, AppError> {
    Ok(Json(team::update_user(&s, &p, &id, b).await?))
}

/// Removes a user.
#[utoipa::path(delete, path = "/users/{id}", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    params(("id" = String, Path, description = "User id")), responses((status = 204, description = "Removed")))]
pub async fn delete_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<StatusCode, AppError> {
    team::delete_user(&s, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's API keys.
#[utoipa::path(get, path = "/apikeys", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    responses((status = 200, description = "The tenant's API keys (never the keys themselves)", body = List<ApiKeyView>)))]
pub async fn list_keys(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<ApiKeyView>>, AppError> {
    Ok(Json(team::list_keys(&s, &p).await?.into()))
}

/// Creates an API key; the key is answered once, as `key`.
#[utoipa::path(post, path = "/apikeys", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    request_body = ApiKeyInput, responses((status = 201, description = "The key, answered once as `key`", body = NewApiKey)))]
pub async fn create_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<ApiKeyInput>,
) -> Result<(StatusCode, Json<NewApiKey>), AppError> {
    Ok((StatusCode::CREATED, Json(team::create_key(&s, &p, b).await?)))
}

/// Revokes an API key.
#[utoipa::path(delete, path = "/apikeys/{id}", tag = "team", security(("apiKey" = ["admin"]), ("session" = ["admin"])),
    params(("id" = String, Path, description = "API key id")), responses((status = 204, description = "Revoked")))]
pub async fn revoke_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    Ids(id): Ids<String>,
) -> Result<StatusCode, AppError> {
    team::revoke_key(&s, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password; every other session of theirs ends.
#[utoipa::path(put, path = "/me/password", tag = "team", security(("session" = ["viewer"])),
    request_body = PasswordChange, responses((status = 204, description = "Changed; every other session ended")))]
pub async fn change_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(b): Body<PasswordChange>,
) -> Result<StatusCode, AppError> {
    team::change_password(&s, &p, b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's sessions.
#[utoipa::path(get, path = "/me/sessions", tag = "team", security(("session" = ["viewer"])),
    responses((status = 200, description = "The caller's sessions", body = List<SessionView>)))]
pub async fn my_sessions(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<List<SessionView>>, AppError> {
    Ok(Json(team::my_sessions(&s, &p).await?.into()))
}

/// Signs the caller out everywhere, this session included; clears the cookie.
#[utoipa::path(delete, path = "/me/sessions", tag = "team", security(("session" = ["viewer"])),
    responses((status = 200, description = "Every session ended, this one included", body = SessionsEnded)))]
pub async fn sign_out_everywhere(State(s): State<AppState>, Auth(p): Auth) -> Result<Response, AppError> {
    let ended = team::sign_out_everywhere(&s, &p).await?;
    let clear = engine_auth::clear_session_cookie(s.config.secure_cookies);
    Ok(([(header::SET_COOKIE, clear)], Json(SessionsEnded { sessions_ended: ended })).into_response())
}
