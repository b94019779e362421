//! Identity: password hashing (argon2id), session tokens, API keys, the login limiter, and the
//! [`Principal`] every authorised request carries. Tokens are random 256-bit values; only their
//! SHA-256 is stored, so a leaked database does not leak a usable session or key.

use super::store;
use super::{AppState, Db};
use crate::model::{AppError, ErrorCode, Me, Role, TenantView};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "narrate_session";
/// The prefix of every API key.
pub const API_KEY_PREFIX: &str = "nk_";

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    /// A browser session cookie (CSRF checks apply).
    Session,
    /// An `X-API-Key` header.
    ApiKey,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The caller's tenant id: every query is scoped by it.
    pub tenant_id: String,
    /// The tenant's slug.
    pub tenant_slug: String,
    /// The tenant's display name.
    pub tenant_name: String,
    /// The user id (None for API keys).
    pub user_id: Option<String>,
    /// The user's email, or `apikey:<name>` for API keys.
    pub actor: String,
    /// The effective role.
    pub role: Role,
    /// Session or API key.
    pub via: AuthVia,
}

impl Principal {
    /// Refuses with 403 unless the caller's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("this action needs the {needed} role; you are signed in as {}", self.role)))
        }
    }

    /// The `GET /me` view.
    pub fn me(&self) -> Me {
        Me {
            email: self.actor.clone(),
            role: self.role,
            tenant: TenantView { slug: self.tenant_slug.clone(), name: self.tenant_name.clone() },
        }
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a PHC hash; false on any mismatch or malformed hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// SHA-256 of a token, hex-encoded: what the database stores.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random 256-bit token, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API key: `nk_` followed by a random token.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", new_token())
}

/// Counts failed sign-ins per email and per client so guessing is throttled.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

/// Failed attempts allowed within [`LIMIT_WINDOW_MS`] before sign-in is refused with 429.
pub const MAX_FAILURES: u32 = 5;
/// The window over which failures are counted.
pub const LIMIT_WINDOW_MS: i64 = 15 * 60 * 1000;

impl LoginLimiter {
    /// Err(429) when `key` failed too often recently.
    pub fn check(&self, key: &str, now: i64) -> Result<(), AppError> {
        let map = self.failures.lock().expect("limiter lock");
        match map.get(key) {
            Some((n, since)) if *n >= MAX_FAILURES && now - since < LIMIT_WINDOW_MS => {
                let wait_min = ((LIMIT_WINDOW_MS - (now - since)) / 60_000).max(1);
                Err(AppError::new(
                    ErrorCode::RateLimited,
                    format!("too many failed sign-in attempts; try again in {wait_min} minute(s)"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Records a failure for `key`.
    pub fn fail(&self, key: &str, now: i64) {
        let mut map = self.failures.lock().expect("limiter lock");
        let entry = map.entry(key.to_string()).or_insert((0, now));
        if now - entry.1 >= LIMIT_WINDOW_MS {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// Forgets failures of `key` after a success.
    pub fn succeed(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

/// A successful sign-in: the raw session token for the cookie and its expiry.
pub struct NewSession {
    /// The cookie value (only its hash is stored).
    pub token: String,
    /// Expiry in epoch ms.
    pub expires_at: i64,
    /// Seconds until expiry, for the cookie's Max-Age.
    pub max_age_secs: i64,
}

/// A precomputed hash verified against when the email is unknown, so both paths cost the same.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Checks credentials and opens a session. The same 401 message whether or not the email exists.
pub async fn login(state: &AppState, email: &str, password: &str) -> Result<NewSession, AppError> {
    let now = state.clock.now_ms();
    let key = email.trim().to_ascii_lowercase();
    state.login_limiter.check(&key, now)?;
    let user = store::users::find_by_email(&state.db, &key).await?;
    let (hash, found) = match &user {
        Some(u) => (u.password_hash.clone(), true),
        None => (DUMMY_HASH.get_or_init(|| hash_password("narrate-dummy").unwrap_or_default()).clone(), false),
    };
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
        .await
        .map_err(|e| super::error::internal("password verification task", e))?;
    let user = match user {
        Some(u) if ok && found => u,
        _ => {
            state.login_limiter.fail(&key, now);
            tracing::info!(event = "auth.login_failed", "sign-in refused");
            return Err(AppError::unauthenticated("the email or password is incorrect"));
        }
    };
    state.login_limiter.succeed(&key);
    let token = new_token();
    let ttl_ms = state.config.session_hours * 3_600_000;
    let expires_at = now + ttl_ms;
    store::sessions::insert(&state.db, &token_hash(&token), &user.id, &user.tenant_id, now, expires_at).await?;
    tracing::info!(event = "auth.login", user.id = %user.id, tenant.id = %user.tenant_id, "signed in");
    Ok(NewSession { token, expires_at, max_age_secs: ttl_ms / 1000 })
}

/// Ends a session (idempotent).
pub async fn logout(db: &Db, token: &str) -> Result<(), AppError> {
    store::sessions::delete(db, &token_hash(token)).await?;
    Ok(())
}

/// Resolves a session cookie to its principal if it exists and has not expired.
pub async fn principal_from_session(state: &AppState, token: &str) -> Result<Option<Principal>, AppError> {
    Ok(store::sessions::find_principal(&state.db, &token_hash(token), state.clock.now_ms()).await?)
}

/// Resolves an `X-API-Key` to its principal if it is known and not revoked.
pub async fn principal_from_api_key(state: &AppState, key: &str) -> Result<Option<Principal>, AppError> {
    if !key.starts_with(API_KEY_PREFIX) {
        return Ok(None);
    }
    Ok(store::api_keys::find_principal(&state.db, &token_hash(key), state.clock.now_ms()).await?)
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// Reads the session token from a `Cookie` header value.
pub fn session_token_from_cookies(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, v)| *k == SESSION_COOKIE && !v.is_empty())
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_are_argon2id_and_verify_only_the_right_password() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horse "));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn limiter_refuses_after_five_failures_and_forgets_after_the_window() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            l.check("a@x", 0).unwrap();
            l.fail("a@x", 0);
        }
        assert_eq!(l.check("a@x", 1000).unwrap_err().code, ErrorCode::RateLimited);
        assert!(l.check("b@x", 1000).is_ok(), "other emails are not affected");
        assert!(l.check("a@x", LIMIT_WINDOW_MS + 1).is_ok());
    }

    #[test]
    fn session_cookie_is_http_only_lax_and_secure_only_when_asked() {
        let c = session_cookie("tok", 60, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(session_cookie("tok", 60, true).ends_with("; Secure"));
        assert_eq!(session_token_from_cookies("a=b; narrate_session=tok; c=d"), Some("tok"));
        assert_eq!(session_token_from_cookies("narrate_session="), None);
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert!(new_api_key().starts_with("nk_"));
    }
}
