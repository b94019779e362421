//! Notification destinations through the API: validation per kind, secrets sealed and never
//! answered, placeholder edits, pause and delete, the Test button at the wire level, roles and
//! tenant isolation, and SSRF refusals when the operator allow-list is off.

use crate::common;

use app::model::Role;
use common::{Backend, TestApp};
use serde_json::{json, Value};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

async fn start(allow_private: bool) -> TestApp {
    let allow = if allow_private { "1" } else { "0" };
    TestApp::start_with(Backend::Sqlite, &[("NARRATE_SECRET_KEY", KEY), ("NARRATE_ALLOW_PRIVATE_DESTINATIONS", allow)])
        .await
        .unwrap()
}

db_test!(destinations_keep_their_secrets_sealed_and_never_answer_them, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let secret_url = "https://hooks.slack.com/services/T000/B000/SuperSecretToken123";
    let r = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "slack", "name": "Growth channel", "config": {"webhookUrl": secret_url}}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    assert!(!text.contains("SuperSecretToken123"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["config"]["webhookUrl"], "••••••••");
    assert_eq!(v["summary"], "hooks.slack.com");
    let id = v["id"].as_str().unwrap().to_string();
    let list = admin.get(app.url("/api/v1/notifications/destinations")).send().await.unwrap().text().await.unwrap();
    assert!(!list.contains("SuperSecretToken123"));
    let stored: String = sqlx::Row::get(
        &sqlx::query("SELECT secret_sealed FROM destinations").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert!(!stored.contains("SuperSecretToken123"), "sealed at rest");
    // Renaming with the placeholder keeps the secret.
    let r = admin
        .patch(app.url(&format!("/api/v1/notifications/destinations/{id}")))
        .json(&json!({"name": "Growth", "config": {"webhookUrl": "••••••••"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d = app::engine::destinations::get(&app.state, &t.id, &id, false).await.unwrap();
    match d.destination {
        app::engine::delivery::Destination::Slack { webhook_url } => assert_eq!(webhook_url, secret_url),
        _ => panic!("kind changed"),
    }
});

#[tokio::test]
async fn validation_names_each_bad_field_and_changes_nothing() {
    let app = start(false).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let cases = [
        (json!({"kind": "fax", "name": "x", "config": {}}), "kind"),
        (json!({"kind": "slack", "name": "", "config": {"webhookUrl": "https://hooks.slack.com/x"}}), "name"),
        (
            json!({"kind": "email", "name": "Ops Email", "config": {"from": "nope", "to": ["a@b.example", "bad"]}}),
            "config.from",
        ),
        (
            json!({"kind": "webhook", "name": "W", "config": {"url": "https://example.com/h", "secret": "short"}}),
            "config.secret",
        ),
    ];
    for (body, field) in cases {
        let r = admin.post(app.url("/api/v1/notifications/destinations")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["details"][0]["field"], field, "{e}");
    }
    let list: Value =
        admin.get(app.url("/api/v1/notifications/destinations")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn private_loopback_metadata_and_plain_http_urls_are_refused_when_the_allow_list_is_off() {
    let app = start(false).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://localhost/hook",
        "http://hooks.example.com/hook",
    ] {
        let r = admin
            .post(app.url("/api/v1/notifications/destinations"))
            .json(&json!({"kind": "webhook", "name": "W", "config": {"url": url}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{url}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["details"][0]["field"], "config.url");
        let msg = e["error"]["details"][0]["message"].as_str().unwrap();
        assert!(msg.contains("not allowed") || msg.contains("only https"), "{url}: {msg}");
    }
}

#[tokio::test]
async fn a_hostname_resolving_to_loopback_is_refused_at_delivery_time() {
    // Validation accepts a name that is not an address; the connector refuses it after DNS
    // resolution. The name: any alias of a loopback address in /etc/hosts other than
    // `localhost` (Debian has `ip6-localhost`; containers list their host name).
    let app = start(false).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let host = hosts
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 1 && f[0].parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
        .flat_map(|f| f[1..].iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .find(|n| !n.eq_ignore_ascii_case("localhost") && !n.ends_with(".localhost"))
        .expect("an alias of a loopback address in /etc/hosts");
    let r = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "webhook", "name": "Sneaky", "config": {"url": format!("https://{host}/hook")}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "a host name is not refused before resolution");
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let out: Value = admin
        .post(app.url(&format!("/api/v1/notifications/destinations/{id}/test")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["ok"], false);
    assert_eq!(out["status"], "failed");
    let err = out["error"].as_str().unwrap();
    assert!(err.contains("could not connect") || err.contains("private"), "{err}");
}

#[tokio::test]
async fn the_test_button_delivers_a_signed_webhook_and_reports_the_destinations_own_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ok"))
        .and(header_exists("webhook-signature"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/broken"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad payload"))
        .mount(&server)
        .await;
    let app = start(true).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let mk = |p: &str| json!({"kind": "webhook", "name": p, "config": {"url": format!("{}{p}", server.uri()), "secret": "whsec-test-secret-0123456789", "headers": {"X-Team": "growth-secret-header"}}});
    let ok: Value = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&mk("/ok"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bad: Value = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&mk("/broken"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["config"]["secret"], "••••••••");
    assert_eq!(ok["config"]["headers"]["X-Team"], "••••••••");
    let r: Value = admin
        .post(app.url(&format!("/api/v1/notifications/destinations/{}/test", ok["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"ok": true, "status": "delivered", "attempts": 1, "error": null}));
    let r: Value = admin
        .post(app.url(&format!("/api/v1/notifications/destinations/{}/test", bad["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["ok"].as_bool(), r["status"].as_str(), r["attempts"].as_u64()),
        (Some(false), Some("failed"), Some(1)),
        "a 400 is not retried"
    );
    let err = r["error"].as_str().unwrap();
    assert!(err.contains("400"));
    assert!(!err.contains("growth-secret-header") && !err.contains("whsec-test-secret"), "{err}");
    let received = &server.received_requests().await.unwrap();
    let first = received.iter().find(|r| r.url.path() == "/ok").unwrap();
    assert_eq!(first.headers.get("x-team").unwrap(), "growth-secret-header");
    let body: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(body["event"], "report.test");
}

#[tokio::test]
async fn viewers_and_editors_read_only_and_other_tenants_get_404() {
    let app = start(true).await;
    let t = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let d: Value = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "email", "name": "Ops Email", "config": {"from": "reports@acme.example", "to": ["ops@acme.example"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = d["id"].as_str().unwrap();
    for role in [Role::Viewer, Role::Editor] {
        let c = app.client_as(&t, role).await;
        let list: Value =
            c.get(app.url("/api/v1/notifications/destinations")).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        let r = c
            .patch(app.url(&format!("/api/v1/notifications/destinations/{id}")))
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            c.delete(app.url(&format!("/api/v1/notifications/destinations/{id}"))).send().await.unwrap().status(),
            403
        );
    }
    let o = app.client_as(&other, Role::Admin).await;
    assert_eq!(o.get(app.url(&format!("/api/v1/notifications/destinations/{id}"))).send().await.unwrap().status(), 404);
    assert_eq!(
        o.delete(app.url(&format!("/api/v1/notifications/destinations/{id}"))).send().await.unwrap().status(),
        404
    );
    let paused: Value = admin
        .patch(app.url(&format!("/api/v1/notifications/destinations/{id}")))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paused["enabled"], false);
    assert_eq!(
        admin.delete(app.url(&format!("/api/v1/notifications/destinations/{id}"))).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        admin.get(app.url(&format!("/api/v1/notifications/destinations/{id}"))).send().await.unwrap().status(),
        404
    );
}

db_test!(a_webhook_moved_to_another_host_must_have_its_secrets_entered_again, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let v: Value = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "webhook", "name": "Signed", "config": {
            "url": "https://hooks.example.com/narrate", "secret": "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ=",
            "headers": {"Authorization": "Bearer internal-token-42"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap();
    let url = app.url(&format!("/api/v1/notifications/destinations/{id}"));
    let moved = |config: Value| admin.patch(&url).json(&json!({"config": config})).send();
    // Same host, placeholders: the stored secrets stay.
    let same = moved(json!({"url": "https://hooks.example.com/other-path", "secret": "••••••••", "headers": {"Authorization": "••••••••"}})).await.unwrap();
    assert_eq!(same.status(), 200);
    // Another host with the placeholders: refused, and nothing changed.
    let r = moved(json!({"url": "https://collector.attacker.example/x", "secret": "••••••••", "headers": {"Authorization": "••••••••"}})).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["config.secret", "config.headers"], "{e}");
    let now: Value = admin.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["config"]["url"], "https://hooks.example.com/other-path");
    // Another host with the secrets entered again (or dropped): fine.
    let r = moved(json!({"url": "https://collector.example.org/x", "secret": "whsec_bmV3LXNpZ25pbmcta2V5LTU2Nzg5MA==", "headers": {}})).await.unwrap();
    assert_eq!(r.status(), 200);
});

db_test!(below_admin_a_webhook_url_shows_only_its_origin, |app| {
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let hook = "https://hooks.example.com/services/TOKEN-IN-THE-PATH?key=abc123";
    let r = admin
        .post(app.url("/api/v1/notifications/destinations"))
        .json(&json!({"kind": "webhook", "name": "Tokened", "config": {"url": hook}}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    for role in [Role::Viewer, Role::Editor] {
        let c = app.client_as(&t, role).await;
        for path in
            ["/api/v1/notifications/destinations".to_string(), format!("/api/v1/notifications/destinations/{id}")]
        {
            let text = c.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
            assert!(!text.contains("TOKEN-IN-THE-PATH") && !text.contains("abc123"), "{role} {path}: {text}");
            assert!(text.contains("https://hooks.example.com/••••••••"), "{text}");
        }
    }
    let mine: Value = admin
        .get(app.url(&format!("/api/v1/notifications/destinations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["config"]["url"], hook, "the admin who edits it sees it");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_operator_sender_a_tenant_may_only_send_as_an_allowed_domain() {
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_SMTP_ALLOWED_FROM_DOMAINS", "acme.example, acme.test")])
        .await
        .unwrap();
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let create = |from: &str| {
        admin
            .post(app.url("/api/v1/notifications/destinations"))
            .json(&json!({"kind": "email", "name": format!("Mail {from}"), "config": {"from": from, "to": ["ops@acme.test"]}}))
            .send()
    };
    assert_eq!(create("reports@acme.example").await.unwrap().status(), 201);
    let r = create("ceo@bank.example").await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["details"][0]["field"], "config.from");
    assert!(e["error"]["message"].as_str().unwrap().contains("acme.example, acme.test"), "{e}");
}
