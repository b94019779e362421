//! Sign-in, sign-out and "who am I" as server functions for the login page and the shell.

use crate::model::{AppError, Me};
use leptos::prelude::*;

/// Signs in with email and password, sets the session cookie and goes to `next` (or the
/// Executive dashboard).
#[server(prefix = "/sfn", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::engine::auth;
    use http::header::{HeaderValue, SET_COOKIE};
    let state = super::ctx::state()?;
    let session = auth::login(&state, &email, &password).await?;
    let cookie = auth::session_cookie(&session.token, session.max_age_secs, state.config.secure_cookies);
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    opts.append_header(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| crate::engine::error::internal("cookie", e))?,
    );
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Only same-site relative paths are accepted as a place to return to (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.starts_with("/login") => {
            n.to_string()
        }
        _ => "/dashboards/executive".to_string(),
    }
}

/// Signs out: deletes the session and clears the cookie.
#[server(prefix = "/sfn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::engine::auth;
    use http::header::{HeaderValue, COOKIE, SET_COOKIE};
    let state = super::ctx::state()?;
    let parts = expect_context::<http::request::Parts>();
    if let Some(token) =
        parts.headers.get(COOKIE).and_then(|c| c.to_str().ok()).and_then(auth::session_token_from_cookies)
    {
        auth::logout(&state.db, token).await?;
    }
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    let clear = auth::clear_session_cookie(state.config.secure_cookies);
    opts.append_header(
        SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(|e| crate::engine::error::internal("cookie", e))?,
    );
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or None.
#[server(prefix = "/sfn", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(super::ctx::principal().ok().map(|p| p.me()))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/settings/reports")), "/settings/reports");
        for evil in ["https://evil.example", "//evil.example", "/\\evil.example", "/login?next=/x"] {
            assert_eq!(safe_next(Some(evil)), "/dashboards/executive", "{evil}");
        }
        assert_eq!(safe_next(None), "/dashboards/executive");
    }
}
