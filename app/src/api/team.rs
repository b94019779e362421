//! Team and access server functions for Settings → Team and the profile page: the same engine
//! calls as `/api/v1/users`, `/api/v1/apikeys` and `/api/v1/me/…`, with the same rules.

use crate::model::team::{ApiKeyInput, ApiKeyView, NewApiKey, PasswordChange, SessionView, UserInput, UserView};
use crate::model::AppError;
use leptos::prelude::*;

/// The tenant's users (admin).
#[server(prefix = "/sfn", endpoint = "users_list")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::list_users(&state, &p).await
}

/// Adds a user (admin).
#[server(prefix = "/sfn", endpoint = "users_create", input = server_fn::codec::Json)]
pub async fn create_user(input: UserInput) -> Result<UserView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::create_user(&state, &p, input).await
}

/// Changes a user's role or disabled flag (admin).
#[server(prefix = "/sfn", endpoint = "users_update", input = server_fn::codec::Json)]
pub async fn update_user(id: String, input: UserInput) -> Result<UserView, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::update_user(&state, &p, &id, input).await
}

/// Removes a user (admin).
#[server(prefix = "/sfn", endpoint = "users_delete")]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::delete_user(&state, &p, &id).await
}

/// The tenant's API keys (admin).
#[server(prefix = "/sfn", endpoint = "apikeys_list")]
pub async fn list_keys() -> Result<Vec<ApiKeyView>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::list_keys(&state, &p).await
}

/// Creates an API key; the key is answered once (admin).
#[server(prefix = "/sfn", endpoint = "apikeys_create", input = server_fn::codec::Json)]
pub async fn create_key(input: ApiKeyInput) -> Result<NewApiKey, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::create_key(&state, &p, input).await
}

/// Revokes an API key (admin).
#[server(prefix = "/sfn", endpoint = "apikeys_revoke")]
pub async fn revoke_key(id: String) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::revoke_key(&state, &p, &id).await
}

/// Changes the signed-in user's password.
#[server(prefix = "/sfn", endpoint = "me_password", input = server_fn::codec::Json)]
pub async fn change_password(input: PasswordChange) -> Result<(), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::change_password(&state, &p, input).await
}

/// The signed-in user's sessions.
#[server(prefix = "/sfn", endpoint = "me_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    crate::engine::team::my_sessions(&state, &p).await
}

/// Signs out everywhere (this session too) and goes to the sign-in page.
#[server(prefix = "/sfn", endpoint = "me_sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<u64, AppError> {
    use http::header::{HeaderValue, SET_COOKIE};
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    let ended = crate::engine::team::sign_out_everywhere(&state, &p).await?;
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    let clear = crate::engine::auth::clear_session_cookie(state.config.secure_cookies);
    opts.append_header(
        SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(|e| crate::engine::error::internal("cookie", e))?,
    );
    Ok(ended)
}
