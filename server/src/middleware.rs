//! Request middleware: who is calling (session cookie or API key), CSRF defence for
//! cookie-authenticated mutations, and the sign-in redirect for pages.
//!
//! CSRF policy: a mutating request (POST/PUT/PATCH/DELETE) that is authenticated by the session
//! cookie — or that signs in — must come from our own origin: its `Origin` (or, failing that,
//! `Referer`) must name this host. REST calls made with the cookie must also carry
//! `X-Requested-With`, a header a cross-site form cannot set. API-key and cron-token callers
//! carry no ambient credential and are exempt.

use app::engine::auth::{self, AuthVia, Principal};
use app::engine::AppState;
use app::model::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Paths a signed-out browser may open.
fn is_public(path: &str) -> bool {
    path == "/login"
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/sfn/")
        || path == "/healthz"
        || path == "/metrics"
        || path.starts_with("/favicon")
        || path.starts_with("/assets/")
}

/// Who the client is: the TCP peer, or — when the peer is a trusted proxy
/// (`NARRATE_TRUSTED_PROXIES`) — the rightmost address of `X-Forwarded-For` that is not itself a
/// trusted proxy (the left part of the header is whatever the client claimed, so it is not
/// believed).
pub fn client(state: &AppState, req: &Request) -> auth::Client {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let trusted = |ip: std::net::IpAddr| state.config.trusted_proxies.iter().any(|p| p.contains(ip));
    let addr = match peer {
        Some(p) if trusted(p) => {
            let forwarded: Vec<std::net::IpAddr> = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse().ok())
                .collect();
            forwarded.iter().rev().find(|a| !trusted(**a)).copied().or(forwarded.first().copied()).or(Some(p))
        }
        other => other,
    };
    let user_agent =
        req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|u| u.chars().take(200).collect());
    auth::Client { addr, user_agent }
}

/// Resolves the principal, enforces CSRF, redirects signed-out page views to `/login`.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let who = client(&state, &req);
    req.extensions_mut().insert(who);
    let principal = match resolve(&state, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let signing_in = path == "/sfn/login" || path == "/api/v1/auth/login";
    let by_cookie = principal.as_ref().is_some_and(|p| p.via == AuthVia::Session);
    if mutating && (by_cookie || signing_in) && !path.starts_with("/api/cron/") {
        if let Err(e) = check_csrf(&state, req.headers(), &path, signing_in && !by_cookie) {
            tracing::warn!(event = "auth.csrf_refused", path = %path, "cross-site request refused");
            return e.into_response();
        }
    }
    if principal.is_none() && req.method() == Method::GET && !is_public(&path) && wants_html(req.headers()) {
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let next = if target == "/" { String::new() } else { format!("?next={}", urlencode(target)) };
        return Redirect::to(&format!("/login{next}")).into_response();
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, AppError> {
    if let Some(key) = headers.get("x-api-key") {
        let key = key.to_str().unwrap_or_default();
        return match auth::principal_from_api_key(state, key).await? {
            Some(p) => Ok(Some(p)),
            None => Err(AppError::unauthenticated("the API key is not valid")),
        };
    }
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::session_token_from_cookies);
    match token {
        Some(t) => auth::principal_from_session(state, t).await,
        None => Ok(None),
    }
}

fn check_csrf(state: &AppState, headers: &HeaderMap, path: &str, origin_optional: bool) -> Result<(), AppError> {
    let refuse = |why: &str| AppError::forbidden(format!("cross-site request refused: {why}"));
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Err(refuse("the browser marked it cross-site"));
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .map(str::to_string)
        .or_else(|| headers.get(header::REFERER).and_then(|v| v.to_str().ok()).map(str::to_string));
    match origin {
        Some(o) if !same_origin(state, headers, &o) => return Err(refuse("the Origin is not this site")),
        Some(_) => {}
        None if origin_optional => {}
        None if path.starts_with("/api/") => {}
        None => return Err(refuse("the request has no Origin")),
    }
    if path.starts_with("/api/") && !origin_optional && !headers.contains_key("x-requested-with") {
        return Err(refuse("cookie-authenticated API calls must send X-Requested-With"));
    }
    Ok(())
}

/// (scheme, host, port) of a URL or Origin value, with the scheme's default port filled in.
fn origin_parts(u: &str) -> Option<(String, String, u16)> {
    let url = url::Url::parse(u).ok()?;
    Some((url.scheme().to_string(), url.host_str()?.to_ascii_lowercase(), url.port_or_known_default()?))
}

/// Whether `origin` (an Origin or Referer value) names this server: the same scheme, host and port
/// as the public URL — or as the `Host` the request came to, on the public URL's scheme (so a page
/// served over plain HTTP can never act for the HTTPS site).
fn same_origin(state: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    let Some(theirs) = origin_parts(origin) else { return false };
    let public = origin_parts(&state.config.public_url);
    if public.as_ref() == Some(&theirs) {
        return true;
    }
    let scheme = public.map(|p| p.0).unwrap_or_else(|| "http".into());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    host.and_then(|h| origin_parts(&format!("{scheme}://{h}"))) == Some(theirs)
}

/// Headers every answer carries: no MIME sniffing, no referrer beyond this site, never framed,
/// and — when the page did not set its own (with its script nonce) — a strict default policy.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = header::HeaderValue::from_str(&app::content_security_policy(None)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|a| a.contains("text/html") || a.contains("*/*"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Largest body of sign-in and server-function requests (small forms and JSON).
pub const SMALL_BODY_BYTES: usize = 16 * 1024;
/// Largest body of other API requests (templates, destinations, previews).
pub const API_BODY_BYTES: usize = 1024 * 1024;

/// The body limit of a path: ingest keeps the large one (`BODY_LIMIT_BYTES`), sign-in and server
/// functions get 16 KiB, the rest of the API 1 MiB.
pub fn body_limit_of(path: &str) -> usize {
    if path == "/api/v1/interactions" || path == "/api/v1/decisions" {
        crate::BODY_LIMIT_BYTES
    } else if path.starts_with("/sfn/") || path.starts_with("/api/v1/auth/") || path.starts_with("/api/cron/") {
        SMALL_BODY_BYTES
    } else {
        API_BODY_BYTES
    }
}

/// Enforces [`body_limit_of`]: a declared length over it is refused at once (413 in the envelope),
/// and a body that grows past it while read (chunked) fails its read, also as 413.
pub async fn limit_body(req: Request, next: Next) -> Response {
    let limit = body_limit_of(req.uri().path());
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return AppError::new(
            app::model::ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {} KiB", limit / 1024),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, limited)).await
}

/// A 401 for REST handlers reached without a principal.
pub fn unauthenticated() -> Response {
    (StatusCode::UNAUTHORIZED, AppError::unauthenticated("please sign in or send X-API-Key")).into_response()
}

/// Server functions answer every error with 500 (the framework's default); this gives each its
/// real status from the error envelope it carries (422 for invalid input, 403, 404, 409, 429…), so
/// the browser, proxies and logs see a refused request as refused, not as a server fault.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let is_sfn = req.uri().path().starts_with("/sfn/");
    let resp = next.run(req).await;
    if !is_sfn || resp.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, AppError::internal()).into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(err.status) {
            if status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE {
                parts.status = status;
            }
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Whether a body or query carries a NUL character: a raw 0 byte, a JSON `\u0000` escape (not
/// one whose backslash is itself escaped), or — in a form or a URL — `%00`.
pub fn carries_nul(bytes: &[u8], form_encoded: bool) -> bool {
    if bytes.contains(&0) {
        return true;
    }
    if form_encoded && bytes.windows(3).any(|w| w == b"%00") {
        return true;
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                return true;
            }
            i += 2; // skip the escaped character, so `\\u0000` (a backslash, then text) is not NUL
        } else {
            i += 1;
        }
    }
    false
}

/// Refuses text with NUL characters anywhere in a request (URL, query, JSON or form body) with
/// 422 before anything reads it: PostgreSQL cannot store NUL in text, and no field of Narrate
/// has a use for it, so it is refused the same way on every database.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    // The REST API refuses NUL inside its router, after the caller's role is checked (a viewer
    // learns nothing from an admin operation, not even that its text was bad).
    if req.uri().path().starts_with("/api/v1/") {
        return next.run(req).await;
    }
    refuse_nul_now(req, next).await
}

/// [`refuse_nul`] for every path (the REST router's own layer).
pub async fn refuse_nul_now(req: Request, next: Next) -> Response {
    let refuse = || AppError::invalid("body", "text must not contain NUL characters").into_response();
    let uri = req.uri().to_string();
    if carries_nul(uri.as_bytes(), true) {
        return refuse();
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = req.into_parts();
    // The body is already bounded by `limit_body`; a read past that bound is its 413.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => {
            return AppError::new(app::model::ErrorCode::PayloadTooLarge, "the request body is too large or unreadable")
                .into_response()
        }
    };
    if carries_nul(&bytes, form) {
        return refuse();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::carries_nul;

    #[test]
    fn nul_is_found_however_it_is_written_and_only_then() {
        assert!(carries_nul(br#"{"name":"a\u0000b"}"#, false));
        assert!(carries_nul(b"name=a%00b", true));
        assert!(carries_nul(b"raw\0byte", false));
        assert!(carries_nul(br#"{"a":"\\\u0000"}"#, false), "an escaped backslash, then a NUL escape");
        assert!(!carries_nul(br#"{"a":"\\u0000"}"#, false), "a backslash followed by the text u0000");
        assert!(!carries_nul(br#"{"url":"https://x.example/%00"}"#, false), "%00 is text in JSON");
        assert!(!carries_nul(br#"{"name":"Weekly \u00e9t\u00e9"}"#, false));
    }
}
