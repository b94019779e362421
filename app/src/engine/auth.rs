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
    /// For sessions, the SHA-256 of the cookie token (to mark "this session"; never answered).
    pub session_hash: Option<String>,
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

/// Who is signing in, as the network and browser tell: the client's address (the TCP peer, or
/// behind a trusted proxy the address it forwarded) and its User-Agent.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address, when known.
    pub addr: Option<std::net::IpAddr>,
    /// The browser, shortened.
    pub user_agent: Option<String>,
}

/// Sign-in throttling, per (account, address) and per address, counted before the password is
/// checked (so a burst of parallel guesses counts in full) and undone on success. Past the free
/// attempts a key waits an exponentially growing delay (30 s doubling, at most 15 min) instead of
/// a hard lock: nobody can lock a known admin out from their own address, and a guesser gets a
/// handful of tries an hour. Memory is bounded: keys are 16-byte hashes, entries expire after 15
/// quiet minutes, and the table holds at most [`MAX_ENTRIES`]. Password verifications (argon2id,
/// ~20 MiB and tens of ms each) run a few at a time under a semaphore.
pub struct LoginLimiter {
    entries: Mutex<HashMap<[u8; 16], Entry>>,
    verifications: tokio::sync::Semaphore,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: i64,
    blocked_until: i64,
}

/// Failed attempts for one account from one address before delays start.
pub const MAX_FAILURES: u32 = 5;
/// Failed attempts from one address (any accounts) before delays start.
pub const MAX_ADDRESS_FAILURES: u32 = 20;
/// Quiet time after which a key's failures are forgotten.
pub const LIMIT_WINDOW_MS: i64 = 15 * 60 * 1000;
/// The first delay; each further failure doubles it.
pub const FIRST_DELAY_MS: i64 = 30_000;
/// The longest delay.
pub const MAX_DELAY_MS: i64 = LIMIT_WINDOW_MS;
/// The most keys remembered at once.
pub const MAX_ENTRIES: usize = 50_000;

impl Default for LoginLimiter {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        LoginLimiter { entries: Mutex::default(), verifications: tokio::sync::Semaphore::new(cores.max(2)) }
    }
}

/// The keys an attempt counts against: (account, address) and address.
fn limit_keys(email: &str, addr: Option<std::net::IpAddr>) -> Vec<([u8; 16], u32)> {
    let h = |s: String| -> [u8; 16] { Sha256::digest(s.as_bytes())[..16].try_into().expect("16 bytes") };
    let addr = addr.map(|a| a.to_string()).unwrap_or_default();
    let mut keys = vec![(h(format!("account\0{email}\0{addr}")), MAX_FAILURES)];
    if !addr.is_empty() {
        keys.push((h(format!("address\0{addr}")), MAX_ADDRESS_FAILURES));
    }
    keys
}

impl LoginLimiter {
    /// Counts an attempt for `email` from `addr` before its password is checked: Err(429) when a
    /// key is waiting out a delay.
    pub fn attempt(&self, email: &str, addr: Option<std::net::IpAddr>, now: i64) -> Result<(), AppError> {
        let keys = limit_keys(email, addr);
        let mut map = self.entries.lock().expect("limiter lock");
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| now - e.last < LIMIT_WINDOW_MS || e.blocked_until > now);
            if map.len() >= MAX_ENTRIES {
                // Still full of live entries: forget the oldest tenth rather than grow.
                let mut by_age: Vec<([u8; 16], i64)> = map.iter().map(|(k, e)| (*k, e.last)).collect();
                by_age.sort_by_key(|(_, t)| *t);
                for (k, _) in by_age.into_iter().take(MAX_ENTRIES / 10) {
                    map.remove(&k);
                }
            }
        }
        let wait = keys.iter().filter_map(|(k, _)| map.get(k)).map(|e| e.blocked_until - now).max().unwrap_or(0);
        if wait > 0 {
            let secs = (wait + 999) / 1000;
            return Err(AppError::new(
                ErrorCode::RateLimited,
                format!("too many failed sign-in attempts; try again in {secs} s"),
            ));
        }
        for (k, free) in keys {
            let e = map.entry(k).or_insert(Entry { failures: 0, last: now, blocked_until: 0 });
            if now - e.last >= LIMIT_WINDOW_MS {
                *e = Entry { failures: 0, last: now, blocked_until: 0 };
            }
            e.failures += 1;
            e.last = now;
            if e.failures >= free {
                let step = (e.failures - free).min(10);
                e.blocked_until = now + (FIRST_DELAY_MS << step).min(MAX_DELAY_MS);
            }
        }
        Ok(())
    }

    /// Undoes the attempt's count after a correct password: the account's failures are forgotten,
    /// the address keeps its earlier failures (signing in to one's own account does not clear a
    /// guesser's record).
    pub fn succeed(&self, email: &str, addr: Option<std::net::IpAddr>) {
        let mut map = self.entries.lock().expect("limiter lock");
        let keys = limit_keys(email, addr);
        map.remove(&keys[0].0);
        if let Some((k, free)) = keys.get(1) {
            if let Some(e) = map.get_mut(k) {
                e.failures = e.failures.saturating_sub(1);
                if e.failures < *free {
                    e.blocked_until = 0;
                }
            }
        }
    }

    /// How many keys are remembered (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().expect("limiter lock").len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Verifies a password on a blocking thread, a few at a time (429 when the queue is long).
pub async fn verify_limited(state: &AppState, hash: &str, password: &str) -> Result<bool, AppError> {
    let permit = tokio::time::timeout(std::time::Duration::from_secs(10), state.login_limiter.verifications.acquire())
        .await
        .map_err(|_| AppError::new(ErrorCode::RateLimited, "sign-in is busy; try again in a moment"))?
        .map_err(|e| super::error::internal("verification semaphore", e))?;
    let (hash, pw) = (hash.to_string(), password.to_string());
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
        .await
        .map_err(|e| super::error::internal("password verification task", e))?;
    drop(permit);
    Ok(ok)
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

/// Checks credentials and opens a session. The same 401 message whether or not the email exists
/// (unknown emails cost the same verification); a disabled account is told so only after its
/// correct password.
pub async fn login(state: &AppState, email: &str, password: &str, client: &Client) -> Result<NewSession, AppError> {
    let now = state.clock.now_ms();
    let key = match super::team::check_email(email) {
        Ok(e) => e,
        Err(_) if email.len() > super::team::MAX_EMAIL => {
            return Err(AppError::invalid("email", format!("at most {} characters", super::team::MAX_EMAIL)))
        }
        Err(_) => email.trim().to_ascii_lowercase(),
    };
    if password.len() > 1024 {
        return Err(AppError::invalid("password", "at most 1024 characters"));
    }
    state.login_limiter.attempt(&key, client.addr, now)?;
    let user = store::users::find_by_email(&state.db, &key).await?;
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => DUMMY_HASH.get_or_init(|| hash_password("narrate-dummy").unwrap_or_default()).clone(),
    };
    let ok = verify_limited(state, &hash, password).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            tracing::info!(event = "auth.login_failed", "sign-in refused");
            return Err(AppError::unauthenticated("the email or password is incorrect"));
        }
    };
    state.login_limiter.succeed(&key, client.addr);
    if user.disabled_at.is_some() {
        tracing::info!(event = "auth.login_disabled", user.id = %user.id, "sign-in of a disabled user refused");
        return Err(AppError::forbidden("this account is disabled; ask an admin of your organisation"));
    }
    let token = new_token();
    let ttl_ms = state.config.session_hours * 3_600_000;
    let expires_at = now + ttl_ms;
    let ua: Option<String> = client.user_agent.as_deref().map(|u| u.chars().take(200).collect());
    let session = store::sessions::NewSession {
        token_hash: &token_hash(&token),
        id: &super::new_id(),
        user_id: &user.id,
        tenant_id: &user.tenant_id,
        user_agent: ua.as_deref(),
        now,
        expires_at,
    };
    store::sessions::insert(&state.db, &session).await?;
    store::users::record_login(&state.db.pool, &user.id, now).await?;
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

    fn ip(s: &str) -> Option<std::net::IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn five_guesses_then_an_exponential_delay_never_a_permanent_lock() {
        let l = LoginLimiter::default();
        let a = ip("203.0.113.7");
        for _ in 0..MAX_FAILURES {
            l.attempt("admin@x", a, 0).unwrap();
        }
        assert_eq!(l.attempt("admin@x", a, 1000).unwrap_err().code, ErrorCode::RateLimited);
        assert!(l.attempt("admin@x", ip("198.51.100.1"), 1000).is_ok(), "the admin's own address is not locked out");
        assert!(l.attempt("b@x", a, 1000).is_ok(), "other accounts are not affected");
        // The delay: 30 s, then 60 s after the next failure, and so on (at most 15 min).
        l.attempt("admin@x", a, FIRST_DELAY_MS).unwrap();
        assert!(l.attempt("admin@x", a, FIRST_DELAY_MS + 59_000).is_err());
        assert!(l.attempt("admin@x", a, FIRST_DELAY_MS + 60_000).is_ok());
    }

    #[test]
    fn a_burst_of_parallel_guesses_counts_before_any_password_is_checked() {
        let l = LoginLimiter::default();
        let admitted = (0..50).filter(|_| l.attempt("ceo@x", ip("203.0.113.9"), 0).is_ok()).count();
        assert_eq!(admitted, MAX_FAILURES as usize);
    }

    #[test]
    fn a_correct_password_clears_the_account_but_not_the_address() {
        let l = LoginLimiter::default();
        let a = ip("203.0.113.5");
        for i in 0..MAX_ADDRESS_FAILURES - 1 {
            l.attempt(&format!("u{i}@x"), a, 0).unwrap();
        }
        l.attempt("mine@x", a, 0).unwrap();
        l.succeed("mine@x", a);
        l.attempt("other@x", a, 0).unwrap();
        assert_eq!(l.attempt("yet@x", a, 0).unwrap_err().code, ErrorCode::RateLimited, "20 guesses from one address");
    }

    #[test]
    fn the_limiter_memory_is_bounded_and_keys_are_hashes() {
        let l = LoginLimiter::default();
        for i in 0..(MAX_ENTRIES + 5_000) {
            let _ = l.attempt(&format!("spray{i}@x"), None, 0);
        }
        assert!(l.len() <= MAX_ENTRIES, "{} entries", l.len());
        assert!(l.attempt("spray1@x", None, LIMIT_WINDOW_MS + 1).is_ok(), "entries expire");
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
