//! Cost controls (issue 12): exports, Run Now and destination tests are rate-limited per caller,
//! and an export's narrative is cached for an hour, so a user who keeps clicking Export ▾ asks the
//! tenant's AI provider once.

use crate::common;

use app::model::Role;
use common::{Backend, TestApp};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_limited_per_user_to_thirty_a_minute() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let t = app.tenant("acme").await;
    let viewer = app.client_as(&t, Role::Viewer).await;
    let editor = app.client_as(&t, Role::Editor).await;
    let export = |c: &reqwest::Client| {
        c.post(app.url("/api/v1/reports/preview"))
            .json(&json!({"dashboard": "business", "format": "csv", "period": "7d"}))
            .send()
    };
    for i in 0..30 {
        assert_eq!(export(&viewer).await.unwrap().status(), 200, "export {i}");
    }
    let limited = export(&viewer).await.unwrap();
    assert_eq!(limited.status(), 429);
    let e: serde_json::Value = limited.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("at most 30 a minute"), "{e}");
    assert_eq!(export(&editor).await.unwrap().status(), 200, "another user has their own allowance");
    app.state.clock.advance(2_000);
    assert_eq!(export(&viewer).await.unwrap().status(), 200, "one more every two seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destination_tests_are_limited_per_user_to_ten_a_minute() {
    let sink = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&sink).await;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let id = app.webhook(&admin, "Sink", &format!("{}/hook", sink.uri())).await;
    let url = app.url(&format!("/api/v1/notifications/destinations/{id}/test"));
    for _ in 0..10 {
        assert_eq!(admin.post(&url).send().await.unwrap().status(), 200);
    }
    assert_eq!(admin.post(&url).send().await.unwrap().status(), 429);
    assert_eq!(sink.received_requests().await.unwrap().len(), 10, "the eleventh message was never sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_views_narrative_asks_the_ai_provider_once_an_hour() {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"choices": [{"message": {"role": "assistant", "content": json!({
            "executiveSummary": "Business held steady across channels.",
            "sections": [],
            "keyTakeaways": ["Channels held steady", "Offers performed as usual", "Nothing needs action"],
        }).to_string()}}]}),
        ))
        .mount(&ai)
        .await;
    let uri = ai.uri();
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[
            ("NARRATE_AI_PROVIDER", "openai"),
            ("NARRATE_AI_BASE_URL", uri.as_str()),
            ("NARRATE_AI_API_KEY", "sk-x"),
            ("NARRATE_AI_MODEL", "m"),
        ],
    )
    .await
    .unwrap();
    let t = app.tenant("acme").await;
    let viewer = app.client_as(&t, Role::Viewer).await;
    let export = |period: &'static str| {
        viewer
            .post(app.url("/api/v1/reports/preview"))
            .json(&json!({"dashboard": "business", "format": "md", "period": period, "narrative": true}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(export("7d").await.unwrap().status(), 200);
    }
    assert_eq!(ai.received_requests().await.unwrap().len(), 1, "three exports of one view, one question");
    let md = export("7d").await.unwrap().text().await.unwrap();
    assert!(md.contains("Business held steady"), "the provider's narrative is the one exported");
    export("30d").await.unwrap();
    assert_eq!(ai.received_requests().await.unwrap().len(), 2, "another view is another question");
    app.state.clock.advance(3_600_001);
    let viewer = app.client_as(&t, Role::Viewer).await;
    viewer
        .post(app.url("/api/v1/reports/preview"))
        .json(&json!({"dashboard": "business", "format": "md", "period": "7d", "narrative": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(ai.received_requests().await.unwrap().len(), 3, "an hour later, a fresh narrative");
}
