//! The API contract (issue 12): `GET /api/v1/openapi.json` is public OpenAPI 3.1, derived from the
//! code; every route of the REST router is in it and every documented operation is routed; the
//! least role it states for each operation is what the server enforces — a viewer or editor gets
//! 403 from every admin operation whatever it sends, before its body is even read.

use crate::common;

use app::model::Role;
use common::{Backend, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// `(METHOD, path)` of every `.route(...)` in the REST router's source, so a route added without
/// its annotation fails here.
fn routed() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/rest/mod.rs");
    let body = &src[src.find("pub fn router()").expect("router()")..src.find("pub fn ops_router()").expect("ops")];
    let mut out = BTreeSet::new();
    let mut rest = body;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let (mut depth, mut end) = (1, 0);
        for (i, ch) in rest.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("a path literal").to_string();
        let handlers = &call[call.find(',').expect("handlers after the path")..];
        for m in ["get", "post", "put", "patch", "delete"] {
            // `get(` as a method router, not the tail of a handler's name (`runs::get`).
            let is_method = handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                handlers[..i].chars().next_back().is_some_and(|c| !c.is_alphanumeric() && c != '_' && c != ':')
            });
            if is_method {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out.remove(&("GET".to_string(), "/openapi.json".to_string()));
    out
}

async fn document(app: &TestApp) -> Value {
    let r = app.plain().get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "the document needs no authentication");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    r.json().await.unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    ops
}

fn least_role(op: &Value) -> Option<Role> {
    let reqs = op["security"].as_array()?;
    if reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())) {
        return None;
    }
    reqs.iter()
        .filter_map(|r| r.as_object())
        .flat_map(|o| o.values())
        .filter_map(|s| s.as_array())
        .flatten()
        .filter_map(|s| s.as_str()?.parse::<Role>().ok())
        .min()
}

/// A concrete URL for a documented path (ids that exist nowhere).
fn concrete(path: &str) -> String {
    let mut out = String::from("/api/v1");
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(if seg.starts_with('{') { "nosuchid" } else { seg });
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_covers_exactly_the_routed_operations() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc["servers"][0]["url"], "/api/v1");

    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
    let routed = routed();
    assert!(routed.len() > 40, "the router's source was read: {routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routed but not in the document: {undocumented:?}");
    assert!(unrouted.is_empty(), "documented but not routed: {unrouted:?}");

    let ids: Vec<String> =
        operations(&doc).iter().map(|(_, _, op)| op["operationId"].as_str().unwrap().to_string()).collect();
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");

    // Links from a created object lead to operations that exist, with the id they need.
    let mut links = 0;
    for (m, p, op) in operations(&doc) {
        for (code, resp) in op["responses"].as_object().unwrap() {
            for (name, link) in resp["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                assert!(unique.contains(&target.to_string()), "{m} {p} {code}: link {name} to unknown {target}");
                assert!(link["parameters"]["id"].as_str().unwrap().starts_with("$response.body#/"), "{name}");
                links += 1;
            }
        }
    }
    assert!(links >= 15, "templates, schedules, destinations, users, keys, segments and runs are linked: {links}");

    // Every $ref resolves, and every error answer is the one envelope.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(doc["components"]["schemas"].get(name).is_some(), "dangling $ref to {name}");
    }
    for (m, p, op) in operations(&doc) {
        for (code, resp) in op["responses"].as_object().unwrap() {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(
                    resp["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{m} {p} {code}"
                );
            }
        }
        if least_role(&op).is_some() {
            assert!(op["responses"].get("401").is_some() && op["responses"].get("403").is_some(), "{m} {p}");
        }
    }

    // A few roles a reader would look up, as the product specifies them (PRODUCT §11, §13).
    let role = |m: &str, p: &str| {
        operations(&doc).into_iter().find(|(om, op_, _)| om == m && op_ == p).and_then(|(_, _, op)| least_role(&op))
    };
    assert_eq!(role("GET", "/reports/templates"), Some(Role::Viewer));
    assert_eq!(role("POST", "/reports/templates"), Some(Role::Editor));
    assert_eq!(role("POST", "/reports/templates/{id}/run-now"), Some(Role::Editor));
    assert_eq!(role("POST", "/notifications/destinations"), Some(Role::Admin));
    assert_eq!(role("GET", "/users"), Some(Role::Admin));
    assert_eq!(role("DELETE", "/apikeys/{id}"), Some(Role::Admin));
    assert_eq!(role("POST", "/auth/login"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_refuses_a_role_below_its_own_with_403_whatever_the_body() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let t = app.tenant("acme").await;
    let doc = document(&app).await;
    let anonymous = app.plain();
    let mut checked = 0;
    for role in [Role::Viewer, Role::Editor] {
        let key = app.api_key(&t, role).await;
        for (m, p, op) in operations(&doc) {
            let Some(needed) = least_role(&op) else { continue };
            let url = app.url(&concrete(&p));
            let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
            // A body that is invalid for every operation: a viewer must not learn even that.
            let send = |c: &reqwest::Client, k: Option<&str>| {
                let mut b = c.request(method.clone(), &url).json(&json!({"nonsense": [1, 2, 3]}));
                if let Some(k) = k {
                    b = b.header("x-api-key", k);
                }
                b.send()
            };
            if role == Role::Viewer {
                let r = send(&anonymous, None).await.unwrap();
                assert_eq!(r.status().as_u16(), 401, "{m} {p} without a caller");
            }
            if role.allows(needed) {
                continue;
            }
            let r = send(&anonymous, Some(&key)).await.unwrap();
            let code = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!((code, body["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "{role} on {m} {p}: {body}");
            checked += 1;
        }
    }
    // Team and access are admin only: 10 admin operations there, plus destinations and AI.
    assert!(checked >= 2 * 14, "operations checked: {checked}");
}

/// Whatever a caller sends, and however often, every status the server answers is one the
/// document lists for that operation — the rate limits' 429 included (a client generated from
/// the document must know every answer it can get). Junk bodies and ids that exist nowhere, so
/// nothing is created; every operation that writes is called past its rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_an_operation_answers_is_documented_even_past_its_rate_limit() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let t = app.tenant("acme").await;
    let key = app.api_key(&t, Role::Admin).await;
    let doc = document(&app).await;
    let client = app.plain();
    let mut seen_429 = BTreeSet::new();
    for (m, p, op) in operations(&doc) {
        let url = app.url(&concrete(&p));
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let documented: BTreeSet<String> = op["responses"].as_object().unwrap().keys().cloned().collect();
        let times = if m == "GET" { 1 } else { 32 };
        for _ in 0..times {
            let mut b = client.request(method.clone(), &url).json(&json!({"nonsense": [1, 2, 3]}));
            if least_role(&op).is_some() {
                b = b.header("x-api-key", &key);
            }
            let code = b.send().await.unwrap().status().as_u16();
            assert!(documented.contains(&code.to_string()), "{m} {p} answered {code}; documented {documented:?}");
            if code == 429 {
                seen_429.insert(format!("{m} {p}"));
            }
        }
    }
    // The one that slipped past the document once (found by schemathesis); its limit is taken
    // before the body is read, so junk reaches it.
    let op = "POST /notifications/destinations/{id}/preview";
    assert!(seen_429.contains(op), "{op} is rate-limited: {seen_429:?}");
}
