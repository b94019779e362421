//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of `/api/v1`, derived from the handlers'
//! annotations and the wire types (`utoipa`), never written by hand.
//!
//! Conventions the document states, so that clients and fuzzers can rely on them:
//! - every operation names the least role it needs as the scope of its security requirement
//!   (`apiKey: [editor]`): OpenAPI's own way to say "role names required";
//! - every error answers the one envelope `ErrorBody` with the statuses that operation can give
//!   (added below from what the operation takes: a caller, a body, path ids, query parameters);
//! - operation ids are unique and stable: the method and the path in camelCase.

use super::{ai, auth, catalogue, dashboards, destinations, exports, ingest, runs, schedules, team, templates};
use app::engine::auth::Principal;
use app::model::api::ErrorBody;
use app::model::{AppError, Role};
use axum::extract::MatchedPath;
use axum::http::{header, Method};
use axum::response::IntoResponse;
use std::collections::HashMap;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Narrate API",
        description = "Dashboards, exports, saved and scheduled reports, runs and deliveries, team and access. \
            Authenticate with an `X-API-Key` header, or with the session cookie of a signed-in browser \
            (mutating calls then also need `X-Requested-With` and a same-origin `Origin`).",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/api/v1")),
    paths(
        auth::login, auth::logout, auth::me,
        team::change_password, team::my_sessions, team::sign_out_everywhere,
        team::list_users, team::create_user, team::update_user, team::delete_user,
        team::list_keys, team::create_key, team::revoke_key,
        dashboards::get,
        catalogue::list_segments, catalogue::create_segment, catalogue::get_segment,
        catalogue::list_channels, catalogue::create_channel, catalogue::list_offers, catalogue::create_offer,
        ingest::interactions, ingest::decisions,
        exports::preview,
        ai::get, ai::put, ai::test,
        destinations::list, destinations::create, destinations::get, destinations::update,
        destinations::delete, destinations::test, destinations::preview,
        templates::list, templates::create, templates::get, templates::update, templates::delete,
        runs::run_now,
        schedules::list, schedules::create, schedules::preview, schedules::get, schedules::update, schedules::delete,
        runs::list, runs::get, runs::artifact, runs::chart, runs::resend,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Conventions),
    tags(
        (name = "auth", description = "Signing in and out; who is calling"),
        (name = "team", description = "Users, API keys, the caller's password and sessions"),
        (name = "dashboards", description = "The six dashboards' data"),
        (name = "catalogue", description = "Segments, channels, offers"),
        (name = "ingest", description = "Interactions and decisions, in batches"),
        (name = "exports", description = "One-off exports of a dashboard"),
        (name = "reports", description = "Saved reports, schedules, runs and deliveries"),
        (name = "destinations", description = "Where reports are delivered"),
        (name = "ai", description = "The tenant's AI provider"),
    )
)]
pub struct ApiDoc;

/// Operations whose callers are rate-limited (429 with the envelope).
const RATE_LIMITED: &[(&str, &str)] = &[
    ("post", "/auth/login"),
    ("post", "/reports/preview"),
    ("post", "/reports/templates/{id}/run-now"),
    ("post", "/notifications/destinations/{id}/test"),
    ("post", "/notifications/destinations/{id}/preview"),
];

/// Operations that answer 503 while the server shuts down or lacks its secret key.
const MAY_BE_UNAVAILABLE: &[(&str, &str)] =
    &[("post", "/reports/templates/{id}/run-now"), ("post", "/reports/runs/{id}/deliveries/{delivery_id}/resend")];

/// Creations refused when the key or email is taken (409).
const UNIQUE: &[(&str, &str)] =
    &[("post", "/segments"), ("post", "/channels"), ("post", "/offers"), ("post", "/users")];

/// Bodies that name other objects by id (a template, a segment): unknown or another tenant's → 404.
const NAMES_IDS: &[(&str, &str)] = &[("post", "/reports/schedules"), ("post", "/reports/templates")];

/// What a created object leads to: `(operation, status, value of {id}, [operations on it])`.
/// OpenAPI links, so that clients (and the contract's stateful phase) can follow an object from
/// its creation through its reads, changes, runs and deletion.
type Follow = (&'static str, &'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);
const LINKS: &[Follow] = &[
    (
        "post",
        "/reports/templates",
        "201",
        "$response.body#/id",
        &[
            ("get", "/reports/templates/{id}"),
            ("patch", "/reports/templates/{id}"),
            ("post", "/reports/templates/{id}/run-now"),
            ("delete", "/reports/templates/{id}"),
        ],
    ),
    (
        "post",
        "/reports/schedules",
        "201",
        "$response.body#/id",
        &[
            ("get", "/reports/schedules/{id}"),
            ("patch", "/reports/schedules/{id}"),
            ("delete", "/reports/schedules/{id}"),
        ],
    ),
    (
        "post",
        "/notifications/destinations",
        "201",
        "$response.body#/id",
        &[
            ("get", "/notifications/destinations/{id}"),
            ("patch", "/notifications/destinations/{id}"),
            ("post", "/notifications/destinations/{id}/test"),
            ("delete", "/notifications/destinations/{id}"),
        ],
    ),
    ("post", "/users", "201", "$response.body#/id", &[("patch", "/users/{id}"), ("delete", "/users/{id}")]),
    ("post", "/apikeys", "201", "$response.body#/id", &[("delete", "/apikeys/{id}")]),
    ("post", "/segments", "201", "$response.body#/id", &[("get", "/segments/{id}")]),
    ("post", "/reports/templates/{id}/run-now", "202", "$response.body#/runId", &[("get", "/reports/runs/{id}")]),
];

struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("apiKey", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(app::engine::auth::SESSION_COOKIE))),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ];
            for (method, op) in ops {
                if let Some(op) = op {
                    op.operation_id = Some(operation_id(method, path));
                    add_errors(method, path, op);
                    add_links(method, path, op);
                }
            }
        }
    }
}

fn add_links(method: &str, path: &str, op: &mut Operation) {
    for (m, p, status, id, targets) in LINKS {
        if (*m, *p) != (method, path) {
            continue;
        }
        let Some(RefOr::T(resp)) = op.responses.responses.get_mut(*status) else { continue };
        for (tm, tp) in targets.iter() {
            let target = operation_id(tm, tp);
            let link =
                utoipa::openapi::link::LinkBuilder::new().operation_id(target.clone()).parameter("id", *id).build();
            resp.links.insert(target, RefOr::T(link));
        }
    }
}

/// `get` + `/reports/templates/{id}` → `getReportsTemplatesById`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let (prefix, word) = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => ("By", param),
            None => ("", seg),
        };
        id.push_str(prefix);
        for part in word.split(['-', '_']).filter(|p| !p.is_empty()) {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                id.extend(first.to_uppercase());
                id.push_str(chars.as_str());
            }
        }
    }
    id
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"))))
                    .build(),
            )
            .build(),
    )
}

fn add_errors(method: &str, path: &str, op: &mut Operation) {
    let authenticated = op.security.as_ref().is_some_and(|reqs| {
        !reqs.is_empty() && !reqs.iter().any(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
    });
    let optional_auth = op.security.as_ref().is_some_and(|reqs| reqs.len() > 1);
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = path.contains('{');
    let has_query =
        params.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)) || has_path;
    let mut add = |code: &str, why: &str| {
        op.responses.responses.entry(code.to_string()).or_insert_with(|| error_response(why));
    };
    // An X-API-Key that is not valid (revoked, expired, unknown) is refused everywhere, even on
    // operations that need no caller.
    add("401", "Not signed in, or the X-API-Key sent is not valid");
    if authenticated || optional_auth {
        add("403", "The caller's role does not allow it, or a cross-site request was refused");
    }
    if op.request_body.is_some() {
        add("400", "The body could not be read (malformed JSON, no JSON content type)");
        add("413", "The body is too large");
        add("422", "The input is invalid; `details` names each field");
    }
    if has_query {
        add("422", "A parameter is invalid; `details` names it");
    }
    if has_path {
        add("400", "A path segment could not be decoded");
        add("404", "Unknown id, or another tenant's");
    }
    if UNIQUE.contains(&(method, path)) {
        add("409", "The key or email is already taken");
    }
    if NAMES_IDS.contains(&(method, path)) {
        add("404", "An id in the body is unknown, or another tenant's");
    }
    if RATE_LIMITED.contains(&(method, path)) {
        add("429", "Too many requests; try again later (the message says when)");
    }
    if MAY_BE_UNAVAILABLE.contains(&(method, path)) {
        add("503", "The server is shutting down or has no secret key; try again in a moment");
    }
    // Any path under /api/v1 that matches no operation answers 404 in the envelope; that is the
    // router's fallback, not an operation's, and so is not listed per operation.
}

/// The least role of each operation, read from the document's security requirements:
/// `(METHOD, "/users/{id}")` → admin. Operations that may be called without a principal (signing
/// in, signed download links) are absent.
pub fn required_roles() -> &'static HashMap<(Method, String), Role> {
    static ROLES: OnceLock<HashMap<(Method, String), Role>> = OnceLock::new();
    ROLES.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("the document is JSON");
        let mut roles = HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
                let reqs = op["security"].as_array().cloned().unwrap_or_default();
                if reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())) {
                    continue;
                }
                let least = reqs
                    .iter()
                    .filter_map(|r| r.as_object())
                    .flat_map(|o| o.values())
                    .filter_map(|scopes| scopes.as_array())
                    .flatten()
                    .filter_map(|scope| scope.as_str()?.parse::<Role>().ok())
                    .min();
                if let Some(role) = least {
                    roles.insert((method, path.clone()), role);
                }
            }
        }
        roles
    })
}

/// Refuses a caller whose role is below the operation's before anything else runs (403, or 401
/// without a caller), so a viewer learns nothing from an admin endpoint, not even whether its
/// body was valid. Handlers check roles as well; the two cannot disagree without the contract
/// tests noticing.
pub async fn require_role(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    if let Some(path) = matched {
        let path = path.strip_prefix("/api/v1").unwrap_or(&path).to_string();
        if let Some(needed) = required_roles().get(&(req.method().clone(), path)) {
            match req.extensions().get::<Principal>() {
                None => return AppError::unauthenticated("please sign in or send X-API-Key").into_response(),
                Some(p) => {
                    if let Err(e) = p.require(*needed) {
                        return e.into_response();
                    }
                }
            }
        }
    }
    next.run(req).await
}

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
        camel_case_links(&mut doc);
        serde_json::to_string_pretty(&doc).expect("the OpenAPI document serialises")
    })
}

/// utoipa 5.5 writes a Link's fields in snake case (`operation_id`); OpenAPI spells them
/// `operationId`, `operationRef`, `requestBody`. Renamed here until utoipa does.
fn camel_case_links(doc: &mut serde_json::Value) {
    let ops = doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()).filter_map(|i| i.as_object_mut());
    for op in ops.flat_map(|item| item.values_mut()) {
        let responses = op["responses"].as_object_mut().into_iter().flat_map(|r| r.values_mut());
        for link in responses.filter_map(|r| r.get_mut("links")?.as_object_mut()).flat_map(|l| l.values_mut()) {
            let Some(link) = link.as_object_mut() else { continue };
            for (from, to) in
                [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")]
            {
                if let Some(v) = link.remove(from) {
                    link.insert(to.to_string(), v);
                }
            }
        }
    }
}

/// `GET /api/v1/openapi.json` (no authentication).
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")], document())
}
