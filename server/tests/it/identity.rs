//! Sign-in, sessions, API keys, roles, tenant isolation and CSRF, through the real HTTP API.

use crate::common;

use app::model::Role;
use common::{Backend, TestApp, PASSWORD};
use serde_json::{json, Value};

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

db_test!(login_succeeds_and_me_names_the_user_role_and_tenant, |app| {
    let t = app.tenant("globex").await;
    let c = app.client_as(&t, Role::Editor).await;
    let me = body(c.get(app.url("/api/v1/me")).send().await.unwrap()).await;
    assert_eq!(
        me,
        json!({"email": "editor@globex.test", "role": "editor", "tenant": {"slug": "globex", "name": "globex Inc"}})
    );
});

db_test!(login_with_a_wrong_password_or_unknown_email_gets_the_same_401, |app| {
    let t = app.tenant("globex").await;
    let c = app.browser();
    let wrong = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": t.emails[&Role::Admin], "password": "nope-nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none(), "no cookie on failure");
    let wrong = body(wrong).await;
    let unknown = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ghost@globex.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let unknown = body(unknown).await;
    assert_eq!(wrong, unknown, "the answer must not reveal whether the email exists");
    assert_eq!(wrong["error"]["code"], "UNAUTHENTICATED");
    assert_eq!(wrong["error"]["status"], 401);
});

db_test!(the_session_cookie_is_http_only_and_lax, |app| {
    let t = app.tenant("globex").await;
    let r = app
        .plain()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": t.emails[&Role::Viewer], "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("narrate_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age="));
});

db_test!(repeated_failed_logins_are_rate_limited, |app| {
    let t = app.tenant("globex").await;
    let c = app.browser();
    let attempt = |pw: &'static str| {
        c.post(app.url("/api/v1/auth/login")).json(&json!({"email": t.emails[&Role::Admin], "password": pw})).send()
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong-password").await.unwrap().status(), 401);
    }
    let limited = attempt(PASSWORD).await.unwrap();
    assert_eq!(limited.status(), 429, "even the right password waits after five failures");
    assert_eq!(body(limited).await["error"]["code"], "RATE_LIMITED");
});

db_test!(logout_ends_the_session, |app| {
    let t = app.tenant("globex").await;
    let c = app.client_as(&t, Role::Viewer).await;
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), 200);
    assert_eq!(c.post(app.url("/api/v1/auth/logout")).send().await.unwrap().status(), 204);
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), 401);
});

db_test!(sessions_expire_after_their_lifetime, |app| {
    let t = app.tenant("globex").await;
    let c = app.client_as(&t, Role::Viewer).await;
    app.state.clock.advance(11 * 3_600_000);
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), 200, "still valid after 11 h");
    app.state.clock.advance(2 * 3_600_000);
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401, "expired after 12 h");
    assert_eq!(body(r).await["error"]["code"], "UNAUTHENTICATED");
});

db_test!(api_keys_authenticate_with_their_tenant_and_role, |app| {
    let t = app.tenant("globex").await;
    let key = app.api_key(&t, Role::Editor).await;
    let c = app.plain();
    let me = body(c.get(app.url("/api/v1/me")).header("x-api-key", &key).send().await.unwrap()).await;
    assert_eq!(me["role"], "editor");
    assert_eq!(me["tenant"]["slug"], "globex");
    let created = c
        .post(app.url("/api/v1/segments"))
        .header("x-api-key", &key)
        .json(&json!({"key": "vip", "name": "VIP", "size": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "an editor key may create without CSRF headers");
    let bad = c.get(app.url("/api/v1/me")).header("x-api-key", "nk_not-a-real-key").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(body(bad).await["error"]["code"], "UNAUTHENTICATED");
});

db_test!(a_viewer_is_refused_an_editor_action_with_403_and_nothing_changes, |app| {
    let t = app.tenant("globex").await;
    let viewer = app.client_as(&t, Role::Viewer).await;
    let r = viewer.post(app.url("/api/v1/segments")).json(&json!({"key": "vip", "name": "VIP"})).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(body(r).await["error"]["code"], "FORBIDDEN");
    let list = body(viewer.get(app.url("/api/v1/segments")).send().await.unwrap()).await;
    assert_eq!(list["data"], json!([]));
    let viewer_key = app.api_key(&t, Role::Viewer).await;
    let r = app
        .plain()
        .post(app.url("/api/v1/offers"))
        .header("x-api-key", viewer_key)
        .json(&json!({"key": "o", "name": "O", "category": "c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
});

db_test!(another_tenants_resource_is_404_never_403_or_its_data, |app| {
    let a = app.tenant("alpha").await;
    let b = app.tenant("beta").await;
    let a_editor = app.client_as(&a, Role::Editor).await;
    let seg = body(
        a_editor
            .post(app.url("/api/v1/segments"))
            .json(&json!({"key": "secret", "name": "Alpha secret"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = seg["id"].as_str().unwrap();
    assert_eq!(a_editor.get(app.url(&format!("/api/v1/segments/{id}"))).send().await.unwrap().status(), 200);
    let b_admin = app.client_as(&b, Role::Admin).await;
    let r = b_admin.get(app.url(&format!("/api/v1/segments/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let text = r.text().await.unwrap();
    assert!(!text.contains("Alpha secret"));
    assert!(text.contains("NOT_FOUND"));
    let list = body(b_admin.get(app.url("/api/v1/segments")).send().await.unwrap()).await;
    assert_eq!(list["data"], json!([]), "beta sees none of alpha's segments");
});

db_test!(cookie_authenticated_mutations_without_same_origin_proof_are_refused, |app| {
    let t = app.tenant("globex").await;
    // Sign in with a bare cookie-jar client, then try mutations a cross-site page could forge.
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": t.emails[&Role::Editor], "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seg = json!({"key": "forged", "name": "Forged"});
    let no_header = c.post(app.url("/api/v1/segments")).json(&seg).send().await.unwrap();
    assert_eq!(no_header.status(), 403, "missing X-Requested-With");
    let cross = c
        .post(app.url("/api/v1/segments"))
        .header("origin", "https://evil.example")
        .header("x-requested-with", "x")
        .json(&seg)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403, "foreign Origin");
    assert_eq!(body(cross).await["error"]["code"], "FORBIDDEN");
    let sfn = c.post(app.url("/sfn/logout")).send().await.unwrap();
    assert_eq!(sfn.status(), 403, "server functions need an Origin too");
    let ok = c
        .post(app.url("/api/v1/segments"))
        .header("origin", &app.base)
        .header("x-requested-with", "x")
        .json(&seg)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201, "same origin with the header is accepted");
    let list = body(c.get(app.url("/api/v1/segments")).send().await.unwrap()).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "the refused attempts created nothing");
});

db_test!(bad_input_gets_the_envelope_and_changes_nothing, |app| {
    let t = app.tenant("globex").await;
    let c = app.client_as(&t, Role::Editor).await;
    let malformed = c
        .post(app.url("/api/v1/segments"))
        .header("content-type", "application/json")
        .body("{\"key\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(body(malformed).await["error"]["code"], "BAD_REQUEST");
    let invalid = c
        .post(app.url("/api/v1/segments"))
        .json(&json!({"key": "Bad Key!", "name": "", "size": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let e = body(invalid).await;
    let fields: Vec<_> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["key", "name", "size"]);
    c.post(app.url("/api/v1/segments")).json(&json!({"key": "vip", "name": "VIP"})).send().await.unwrap();
    let dup = c.post(app.url("/api/v1/segments")).json(&json!({"key": "vip", "name": "Again"})).send().await.unwrap();
    assert_eq!(dup.status(), 409);
    assert_eq!(body(dup).await["error"]["code"], "CONFLICT");
    let list = body(c.get(app.url("/api/v1/segments")).send().await.unwrap()).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let unknown = c.get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
});

db_test!(signed_out_pages_redirect_to_login_and_the_api_answers_401, |app| {
    let c = app.plain();
    let page = c.get(app.url("/dashboards/executive?period=30d")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=/dashboards/executive%3Fperiod%3D30d");
    let login = c.get(app.url("/login")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("Sign in"));
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), 401);
    assert_eq!(c.get(app.url("/healthz")).send().await.unwrap().status(), 200);
});

db_test!(a_signed_in_page_renders_the_shell_with_user_and_role, |app| {
    let t = app.tenant("globex").await;
    let c = app.client_as(&t, Role::Admin).await;
    let html = c
        .get(app.url("/dashboards/business"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "Executive",
        "Model Health",
        "Data Health",
        "Attribution",
        "Reports",
        "Integrations",
        "admin@globex.test",
        "globex Inc",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
});

db_test!(signing_in_never_redirects_off_site_whatever_next_says, |app| {
    let t = app.tenant("acme").await;
    let email = t.emails[&Role::Viewer].clone();
    for (next, expected) in [
        ("/settings/reports", "/settings/reports"),
        ("/\t/evil.example", "/dashboards/executive"),
        ("//evil.example", "/dashboards/executive"),
        ("/\\evil.example", "/dashboards/executive"),
        ("https://evil.example/", "/dashboards/executive"),
    ] {
        // The sign-in form posted as a browser without JavaScript would: the answer is a redirect.
        let r = app
            .plain()
            .post(app.url("/sfn/login"))
            .header("origin", &app.base)
            .header("accept", "text/html")
            .form(&[("email", email.as_str()), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{next:?}: {}", r.status());
        assert_eq!(r.headers()["location"], expected, "next = {next:?}");
    }
});

db_test!(sign_in_and_server_functions_take_small_bodies_and_the_api_a_megabyte, |app| {
    let t = app.tenant("acme").await;
    let big = "x".repeat(20 * 1024);
    let c = app.browser();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": t.emails[&Role::Viewer], "password": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(body(r).await["error"]["code"], "PAYLOAD_TOO_LARGE");
    let r = c
        .post(app.url("/sfn/login"))
        .header("origin", &app.base)
        .form(&[("email", t.emails[&Role::Viewer].as_str()), ("password", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "server functions too");
    let editor = app.client_as(&t, Role::Editor).await;
    let huge = "y".repeat(1_100_000);
    let r = editor
        .post(app.url("/api/v1/reports/templates"))
        .json(&json!({"name": huge, "dashboard": "business"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let n: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_templates").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(n, 0, "nothing changed");
    // Ingest keeps its large limit: a 2 MB batch is read (and judged row by row).
    let rows: String = (0..20_000).map(|i| format!("{{\"bad\":{i},\"padding\":\"{}\"}}\n", "p".repeat(60))).collect();
    assert!(rows.len() > 1_500_000);
    let r = editor.post(app.url("/api/v1/interactions")).body(rows).send().await.unwrap();
    assert_eq!(r.status(), 422, "read and refused for its rows, not its size");
});

db_test!(pages_carry_a_nonce_policy_and_every_answer_the_protective_headers, |app| {
    let page = app.plain().get(app.url("/login")).header("accept", "text/html").send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    for part in ["script-src 'self' 'nonce-", "'wasm-unsafe-eval'", "frame-ancestors 'none'", "object-src 'none'"] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_string();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\"")),
        "the hydration script carries the page's nonce"
    );
    let again = app.plain().get(app.url("/login")).header("accept", "text/html").send().await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(&nonce), "a fresh nonce per page");
    let api = app.plain().get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert!(api.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_must_match_the_public_urls_scheme_host_and_port() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_PUBLIC_URL", "https://narrate.example")]).await.unwrap();
    let t = app.tenant("acme").await;
    let sign_in = |origin: &'static str| {
        let c = reqwest::Client::new();
        let (url, email) = (app.url("/api/v1/auth/login"), t.emails[&Role::Viewer].clone());
        async move {
            c.post(url)
                .header("origin", origin)
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(sign_in("https://narrate.example").await, 200);
    assert_eq!(sign_in("https://narrate.example:443").await, 200, "the default port is the same origin");
    assert_eq!(sign_in("http://narrate.example").await, 403, "plain HTTP cannot act for the HTTPS site");
    assert_eq!(sign_in("https://narrate.example:8443").await, 403, "another port is another origin");
    assert_eq!(sign_in("https://evil.example").await, 403);
}

db_test!(a_refused_server_function_answers_its_own_status_not_500, |app| {
    let t = app.tenant("initech").await;
    let c = app.browser();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": t.emails[&Role::Editor], "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Run Now on a template that is not there: the envelope says 404, and so does the status.
    let missing = c
        .post(app.url("/sfn/templates_run_now"))
        .header("origin", &app.base)
        .form(&[("id", "no-such-template")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let b = body(missing).await;
    assert_eq!((b["code"].as_str(), b["status"].as_u64()), (Some("NOT_FOUND"), Some(404)), "{b}");
});

db_test!(nul_characters_are_refused_with_422_everywhere_and_change_nothing, |app| {
    let t = app.tenant("hooli").await;
    let editor = app.client_as(&t, Role::Editor).await;
    // In a JSON body (PostgreSQL cannot store NUL in text: this was a 500 there).
    let r = editor
        .post(app.url("/api/v1/segments"))
        .json(&json!({"key": "nul", "name": "Before\u{0}after"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(body(r).await["error"]["code"], "VALIDATION_ERROR");
    // In a query and in a path.
    let q = editor.get(app.url("/api/v1/reports/runs?templateId=a%00b")).send().await.unwrap();
    assert_eq!(q.status(), 422);
    let p = editor.get(app.url("/api/v1/reports/templates/a%00b")).send().await.unwrap();
    assert_eq!(p.status(), 422);
    // In an ingest batch.
    let rows = r#"[{"ts":"2026-11-30T10:00:00Z","customerId":"c\u0000","offer":"o","channel":"web","segment":"s","outcome":"impression"}]"#;
    let i = editor
        .post(app.url("/api/v1/interactions"))
        .header("content-type", "application/json")
        .body(rows)
        .send()
        .await
        .unwrap();
    assert_eq!(i.status(), 422);
    // Nothing was written; text that merely mentions a backslash and u0000 is fine.
    let list = body(editor.get(app.url("/api/v1/segments")).send().await.unwrap()).await;
    assert!(list["data"].as_array().unwrap().iter().all(|s| s["key"] != "nul"), "{list}");
    let ok = editor
        .post(app.url("/api/v1/segments"))
        .json(&json!({"key": "textual", "name": "a \\u0000 b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
});
