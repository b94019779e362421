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
    let client = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<auth::Client>().cloned())
        .unwrap_or_default();
    let session = auth::login(&state, &email, &password, &client).await?;
    let cookie = auth::session_cookie(&session.token, session.max_age_secs, state.config.secure_cookies);
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    opts.append_header(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| crate::engine::error::internal("cookie", e))?,
    );
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Only a path of this site is accepted as a place to return to (no open redirect): it starts
/// with exactly one `/`, and holds no backslash and no control character anywhere — browsers drop
/// tabs and newlines from a `Location`, so `/\t/evil.example` would read as `//evil.example`.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/dashboards/executive";
    let Some(n) = next else { return HOME.into() };
    let local = n.len() <= 2048
        && n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/login")
        && !n.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace());
    if local {
        n.to_string()
    } else {
        HOME.into()
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
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/login?next=/x",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/.\\evil.example",
            "/%09/../\\evil",
            "/ /evil.example",
            "\t//evil.example",
        ] {
            assert_eq!(safe_next(Some(evil)), "/dashboards/executive", "{evil}");
        }
        assert_eq!(safe_next(None), "/dashboards/executive");
    }
}
