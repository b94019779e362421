//! `POST /notifications/destinations/{id}/preview`: what each kind of destination would receive
//! for a template, built by the delivery code itself — judged by what the destinations saw
//! (nothing) and by what the preview must never show (any secret).

use crate::common;

use app::model::Role;
use common::{TestApp, NOW};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SLACK_SECRET: &str = "T000/B000/slack-secret-path-xyz";
const TEAMS_SECRET: &str = "teams-secret-sig-abc";
const HOOK_SECRET: &str = "whsec-test-secret-0123456789";
const HEADER_SECRET: &str = "growth-secret-header";

fn body(name: &str) -> Value {
    json!({"name": name, "dashboard": "executive", "period": "7d", "formats": ["pdf", "csv"], "narrative": {"enabled": true}})
}

async fn create(app: &TestApp, admin: &reqwest::Client, d: Value) -> String {
    let r = admin.post(app.url("/api/v1/notifications/destinations")).json(&d).send().await.unwrap();
    assert_eq!(r.status(), 201, "{d}");
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

db_test!(a_preview_shows_each_destination_exactly_what_it_would_receive_and_sends_nothing, |app| {
    let sink = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&sink).await;
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 3, 0.05, NOW).await.unwrap();
    let admin = app.client_as(&t, Role::Admin).await;
    let editor = app.client_as(&t, Role::Editor).await;
    let u = sink.uri();
    let slack = create(&app, &admin, json!({"kind": "slack", "name": "Growth channel", "config": {"webhookUrl": format!("{u}/services/{SLACK_SECRET}")}})).await;
    let teams = create(&app, &admin, json!({"kind": "teams", "name": "Leads", "config": {"webhookUrl": format!("{u}/workflows?sig={TEAMS_SECRET}")}})).await;
    let email = create(&app, &admin, json!({"kind": "email", "name": "Ops Email", "config": {"from": "reports@acme.example", "to": ["ops@acme.example", "cfo@acme.example"]}})).await;
    let hook = create(&app, &admin, json!({"kind": "webhook", "name": "Warehouse", "config": {"url": format!("{u}/hook"), "secret": HOOK_SECRET, "headers": {"X-Team": HEADER_SECRET}}})).await;
    let preview = |id: String, b: Value| {
        let editor = editor.clone();
        let url = app.url(&format!("/api/v1/notifications/destinations/{id}/preview"));
        async move {
            let r = editor.post(url).json(&b).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };

    let mut seen = String::new();
    let (s, p) = preview(slack, body("Weekly exec")).await;
    seen.push_str(&p.to_string());
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["kind"], "slack");
    assert_eq!(p["blocks"][0]["text"]["text"], "Weekly exec", "the header block is the report's name");
    assert!(p["text"].as_str().unwrap().starts_with("Weekly exec"));
    assert!(p["drawn"].as_str().unwrap().contains("Weekly exec"));

    let (_, p) = preview(teams, body("Weekly exec")).await;
    seen.push_str(&p.to_string());
    assert_eq!(p["card"]["type"], "AdaptiveCard");
    assert!(p["drawn"].as_str().unwrap().contains("teams-card"));

    let (_, p) = preview(email, body("Weekly exec")).await;
    seen.push_str(&p.to_string());
    assert_eq!(p["kind"], "email");
    assert!(p["subject"].as_str().unwrap().contains("Weekly exec"), "{p}");
    assert_eq!(p["recipients"], json!(["ops@acme.example", "cfo@acme.example"]));
    assert!(p["html"].as_str().unwrap().contains("<html"), "the email's HTML body");
    let files: Vec<&str> =
        p["attachments"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 2, "both formats attached: {files:?}");
    assert!(files[0].ends_with(".pdf") && files[1].ends_with(".csv"));
    assert!(p["attachments"].as_array().unwrap().iter().all(|a| a["sizeBytes"].as_i64().unwrap() > 0));
    assert!(p["warning"].as_str().unwrap_or_default().contains("NARRATE_SMTP_URL"), "email is not configured here");

    let (_, p) = preview(hook.clone(), body("Weekly exec")).await;
    seen.push_str(&p.to_string());
    assert_eq!(p["json"]["event"], "report.run.completed");
    assert_eq!(p["json"]["templateName"], "Weekly exec");
    let headers: Vec<(String, String)> = serde_json::from_value(p["headers"].clone()).unwrap();
    let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(header("x-team").as_deref(), Some("••••••••"));
    assert_eq!(header("webhook-signature").as_deref(), Some("v1,••••••••"));
    assert!(p["json"]["artifacts"][0]["base64"].as_str().unwrap().contains("characters of base64"));

    // A saved template by id gives its own name; the sink saw nothing; no secret anywhere.
    let saved: Value = editor
        .post(app.url("/api/v1/reports/templates"))
        .json(&body("Saved one"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (s, p) = preview(hook.clone(), json!({"templateId": saved["id"]})).await;
    assert_eq!(s, 200);
    assert_eq!(p["json"]["templateName"], "Saved one");
    assert_eq!(sink.received_requests().await.unwrap().len(), 0, "a preview sends nothing");
    let runs: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_runs").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(runs, 0, "and records no run");
    for secret in [SLACK_SECRET, TEAMS_SECRET, HOOK_SECRET, HEADER_SECRET] {
        assert!(!seen.contains(secret), "a secret leaked into a preview: {secret}");
    }

    // Roles and tenants: a viewer may not, another tenant's destination is not found, a bad
    // template body is refused with its fields.
    let viewer = app.client_as(&t, Role::Viewer).await;
    let r = viewer
        .post(app.url(&format!("/api/v1/notifications/destinations/{hook}/preview")))
        .json(&body("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let other = app.tenant("globex").await;
    let theirs = app.client_as(&other, Role::Editor).await;
    let r = theirs
        .post(app.url(&format!("/api/v1/notifications/destinations/{hook}/preview")))
        .json(&body("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (s, e) = preview(hook, json!({"name": "", "dashboard": "sales"})).await;
    assert_eq!(s, 422);
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"name") && fields.contains(&"dashboard"), "{fields:?}");
});

#[tokio::test]
async fn a_slack_message_shows_the_headline_chart_through_a_signed_link_its_servers_can_fetch() {
    // Slack's servers fetch the image as the message arrives, before they answer the post: the
    // sink answers after 2 s, and the link is fetched while the run is still delivering.
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(2)))
        .mount(&sink)
        .await;
    let vars = [("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1"), ("NARRATE_PUBLIC_URL", "https://reports.example.com")];
    let app = TestApp::start_with(common::Backend::Sqlite, &vars).await.unwrap();
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 3, 0.05, NOW).await.unwrap();
    // Signed in by API key: a browser session would be refused, its origin is not the public URL.
    let key = app.api_key(&t, Role::Admin).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-api-key", key.parse().unwrap());
    let admin = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let slack = create(
        &app,
        &admin,
        json!({"kind": "slack", "name": "Growth", "config": {"webhookUrl": format!("{}/services/x", sink.uri())}}),
    )
    .await;
    let mut b = body("Business weekly");
    b["dashboard"] = json!("business");
    b["fallbackDestinations"] = json!([slack]);
    let tpl: Value =
        admin.post(app.url("/api/v1/reports/templates")).json(&b).send().await.unwrap().json().await.unwrap();
    let r: Value = admin
        .post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = r["runId"].as_str().unwrap().to_string();
    let mut sent = Vec::new();
    for _ in 0..600 {
        sent = sink.received_requests().await.unwrap();
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let message: Value = serde_json::from_slice(&sent[0].body).unwrap();
    let image =
        message["blocks"].as_array().unwrap().iter().find(|b| b["type"] == "image").expect("an image block").clone();
    let url = image["image_url"].as_str().unwrap();
    let prefix = format!("https://reports.example.com/api/v1/reports/runs/{run_id}/charts/0?expires=");
    assert!(url.starts_with(&prefix), "{url}");
    let run: Value =
        admin.get(app.url(&format!("/api/v1/reports/runs/{run_id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(run["status"], "running", "the message is still being posted");
    // What Slack's servers would fetch: the same path and query, without any session.
    let local = app.url(url.trim_start_matches("https://reports.example.com"));
    let anonymous = reqwest::Client::new();
    let got = anonymous.get(&local).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    let png = got.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let tampered = local.replace("sig=", "sig=0");
    assert_eq!(anonymous.get(&tampered).send().await.unwrap().status(), 403, "a changed signature is refused");
    let other_chart = local.replace("/charts/0?", "/charts/1?");
    assert_eq!(anonymous.get(&other_chart).send().await.unwrap().status(), 403, "a link opens its own chart only");
    let bare = app.url(&format!("/api/v1/reports/runs/{run_id}/charts/0"));
    assert_eq!(anonymous.get(&bare).send().await.unwrap().status(), 401);
}
