//! Wire-level tests of the HTTP deliveries against a local mock server (loopback only): payload
//! shapes, retries and waits, timeouts, refused connections, signatures verified by an
//! independent implementation, and errors free of secrets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::model::Narrative;

/// A file with its real SHA-256 and a loopback download URL.
pub(super) fn artifact(format: &str, filename: &str, media_type: &str, bytes: Vec<u8>) -> Artifact {
    Artifact {
        format: format.into(),
        filename: filename.into(),
        media_type: media_type.into(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        download_url: format!(
            "http://127.0.0.1:9/api/v1/reports/runs/run-1/artifacts/{format}?exp=1900000000&sig=abc123"
        ),
        bytes: Arc::new(bytes),
    }
}

/// A run as a delivery sees it: narrative, two sections, a PDF and a CSV.
pub(super) fn sample_input() -> DeliveryInput {
    DeliveryInput {
        delivery_id: "dlv-01931b6e-7c2a".into(),
        run_id: "run-1".into(),
        tenant_id: "ten-1".into(),
        template_id: "tpl-1".into(),
        template_name: "Weekly revenue".into(),
        schedule_id: Some("sch-1".into()),
        status: crate::model::runs::RunStatus::Succeeded,
        period: "last 7 days, 2026-11-24 to 2026-11-30 (UTC)".into(),
        generated_at: "2026-11-30T08:00:00Z".into(),
        narrative: Some(Narrative {
            executive_summary: "Revenue rose 12% to $1.2M, led by paid search.".into(),
            sections: vec![],
            key_takeaways: vec![
                "Paid search drove most of the growth.".into(),
                "Email revenue fell 3%.".into(),
                "Refunds stayed under 1%.".into(),
            ],
            provider: "builtin".into(),
            model: None,
            fallback: false,
            fallback_reason: None,
        }),
        sections: vec![
            SectionSummary { id: "rev_channel".into(), title: "Revenue by channel".into(), row_count: 12 },
            SectionSummary { id: "refunds".into(), title: "Refunds".into(), row_count: 1 },
        ],
        kpis: vec![],
        charts: vec![],
        headline_chart: None,
        artifacts: vec![
            artifact(
                "pdf",
                "weekly-revenue-2026-11-30.pdf",
                "application/pdf",
                (0..=255u8).cycle().take(3000).collect(),
            ),
            artifact(
                "csv",
                "weekly-revenue-2026-11-30.csv",
                "text/csv",
                b"channel,revenue\nsearch,1200\nemail,300\n".to_vec(),
            ),
        ],
        run_url: "https://narrate.example.com/reports/runs/run-1".into(),
        is_test: false,
    }
}

/// Loopback allowed, short waits, three attempts.
pub(super) fn fast() -> Settings {
    Settings {
        allow_private: true,
        attempt_timeout: Duration::from_secs(5),
        max_attempts: 3,
        max_total: Duration::from_secs(30),
        base_backoff: Duration::from_millis(5),
        ..Settings::default()
    }
}

/// Delivers and collects what `on_attempt` saw.
pub(super) async fn run(
    dest: &Destination,
    input: &DeliveryInput,
    settings: &Settings,
) -> (Outcome, Vec<AttemptRecord>) {
    let mut seen = Vec::new();
    let out = deliver(dest, input, settings, |r| seen.push(r.clone())).await;
    (out, seen)
}

/// A port nothing listens on.
fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn slack(server: &MockServer) -> Destination {
    Destination::Slack { webhook_url: format!("{}/services/T0001/B0002/slackSecretToken42", server.uri()) }
}

fn results(seen: &[AttemptRecord]) -> Vec<&str> {
    seen.iter().map(|r| r.result.as_str()).collect()
}

#[tokio::test]
async fn slack_posts_block_kit_with_an_open_report_button_and_ok_is_delivered() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).mount(&server).await;
    let input = sample_input();
    let (out, seen) = run(&slack(&server), &input, &fast()).await;
    assert_eq!((out.status, out.attempts, out.error.as_deref()), (DeliveryStatus::Delivered, 1, None));
    assert_eq!((results(&seen), seen[0].http_status), (vec!["delivered"], Some(200)));
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].url.path(), "/services/T0001/B0002/slackSecretToken42");
    assert_eq!(reqs[0].headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], "Weekly revenue");
    let button = &blocks.last().unwrap()["elements"][0];
    assert_eq!((button["type"].as_str(), button["url"].as_str()), (Some("button"), Some(input.run_url.as_str())));
    assert!(body["text"].as_str().unwrap().contains("Weekly revenue"));
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("invalid_payload"))
        .mount(&server)
        .await;
    let (out, seen) = run(&slack(&server), &sample_input(), &fast()).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 1));
    assert_eq!(out.error.as_deref(), Some("HTTP 400: invalid_payload"));
    assert_eq!(requests(&server).await.len(), 1, "exactly one request");
    assert_eq!((results(&seen), seen[0].http_status), (vec!["failed"], Some(400)));
}

#[tokio::test]
async fn slack_404_no_service_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&server)
        .await;
    let (out, _) = run(&slack(&server), &sample_input(), &fast()).await;
    assert_eq!(
        (out.status, out.attempts, out.error.as_deref()),
        (DeliveryStatus::Failed, 1, Some("HTTP 404: no_service"))
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured_then_delivered() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1").set_body_string("rate_limited");
    Mock::given(method("POST")).respond_with(limited).up_to_n_times(1).mount(&server).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).mount(&server).await;
    let started = Instant::now();
    let (out, seen) = run(&slack(&server), &sample_input(), &fast()).await;
    let elapsed = started.elapsed();
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Delivered, 2));
    assert!(elapsed >= Duration::from_millis(950), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "waited {elapsed:?}");
    assert_eq!(results(&seen), vec!["retry", "delivered"]);
    assert_eq!((seen[0].http_status, seen[0].error.as_deref()), (Some(429), Some("HTTP 429: rate_limited")));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_500_then_200_is_delivered_after_two_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).mount(&server).await;
    let (out, seen) = run(&slack(&server), &sample_input(), &fast()).await;
    assert_eq!((out.status, out.attempts, out.error), (DeliveryStatus::Delivered, 2, None));
    assert_eq!(results(&seen), vec!["retry", "delivered"]);
    assert_eq!(seen.iter().map(|r| r.http_status).collect::<Vec<_>>(), vec![Some(500), Some(200)]);
    assert_eq!(seen.iter().map(|r| r.number).collect::<Vec<_>>(), vec![1, 2]);
}

#[tokio::test]
async fn every_attempt_timing_out_fails_with_a_timeout_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let settings = Settings { attempt_timeout: Duration::from_millis(200), max_attempts: 2, ..fast() };
    let started = Instant::now();
    let (out, seen) = run(&slack(&server), &sample_input(), &settings).await;
    assert!(started.elapsed() < Duration::from_secs(3), "each attempt stops at its timeout");
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 2));
    let error = out.error.unwrap();
    assert!(error.starts_with("gave up after 2 attempts in ") && error.contains("timed out"), "{error}");
    assert_eq!(results(&seen), vec!["retry", "failed"]);
    assert!(seen
        .iter()
        .all(|r| r.http_status.is_none() && r.error.as_deref().is_some_and(|e| e.contains("timed out"))));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_refused_connection_fails_after_max_attempts() {
    let dest =
        Destination::Webhook { url: format!("http://127.0.0.1:{}/hook", unused_port()), secret: None, headers: vec![] };
    let (out, seen) = run(&dest, &sample_input(), &fast()).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 3));
    let error = out.error.unwrap();
    assert!(error.starts_with("gave up after 3 attempts in ") && error.contains("could not connect"), "{error}");
    assert_eq!(results(&seen), vec!["retry", "retry", "failed"]);
}

#[tokio::test]
async fn a_private_address_is_refused_without_retry_unless_allowed() {
    let server = MockServer::start().await;
    let settings = Settings { allow_private: false, ..fast() };
    let (out, seen) = run(&slack(&server), &sample_input(), &settings).await;
    assert_eq!((out.status, out.attempts, seen.len()), (DeliveryStatus::Failed, 1, 1));
    assert!(out.error.unwrap().contains("only https"), "plain http to loopback is refused");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let server = MockServer::start().await;
    let redirect = ResponseTemplate::new(302).insert_header("location", "http://127.0.0.1:9/elsewhere");
    Mock::given(method("POST")).respond_with(redirect).mount(&server).await;
    let (out, _) = run(&slack(&server), &sample_input(), &fast()).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 1));
    assert_eq!(out.error.as_deref(), Some("HTTP 302: redirects are not followed"));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn teams_202_is_recorded_as_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).insert_header("x-ms-workflow-run-id", "0858"))
        .mount(&server)
        .await;
    let dest =
        Destination::Teams { webhook_url: format!("{}/workflows/abc/triggers/manual?sig=teamsSig987", server.uri()) };
    let input = sample_input();
    let (out, seen) = run(&dest, &input, &fast()).await;
    assert_eq!((out.status, out.attempts, out.response_id.as_deref()), (DeliveryStatus::Accepted, 1, Some("0858")));
    assert_eq!(out.status.as_str(), "accepted");
    assert_eq!((results(&seen), seen[0].http_status), (vec!["accepted"], Some(202)));
    let body: Value = serde_json::from_slice(&requests(&server).await[0].body).unwrap();
    let card = &body["attachments"][0]["content"];
    assert_eq!((card["type"].as_str(), card["version"].as_str()), (Some("AdaptiveCard"), Some("1.4")));
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], input.run_url.as_str());
}

#[tokio::test]
async fn teams_200_is_delivered() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let dest = Destination::Teams { webhook_url: format!("{}/workflows/abc", server.uri()) };
    let (out, _) = run(&dest, &sample_input(), &fast()).await;
    assert_eq!(out.status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn webhook_json_carries_the_run_and_inline_artifacts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204).insert_header("x-request-id", "req-7"))
        .mount(&server)
        .await;
    let input = sample_input();
    let dest = Destination::Webhook { url: format!("{}/hook", server.uri()), secret: None, headers: vec![] };
    let (out, _) = run(&dest, &input, &fast()).await;
    assert_eq!((out.status, out.response_id.as_deref()), (DeliveryStatus::Delivered, Some("req-7")));
    let req = &requests(&server).await[0];
    assert!(req.headers.get("webhook-signature").is_none(), "no secret, no signature");
    assert_eq!(req.headers["webhook-id"], input.delivery_id.as_str());
    let v: Value = serde_json::from_slice(&req.body).unwrap();
    for (key, want) in [
        ("event", "report.run.completed"),
        ("runId", "run-1"),
        ("tenantId", "ten-1"),
        ("templateId", "tpl-1"),
        ("templateName", "Weekly revenue"),
        ("scheduleId", "sch-1"),
        ("status", "succeeded"),
        ("period", input.period.as_str()),
        ("generatedAt", "2026-11-30T08:00:00Z"),
        ("runUrl", input.run_url.as_str()),
    ] {
        assert_eq!(v[key], want, "{key}");
    }
    assert_eq!(v["narrative"]["executiveSummary"], "Revenue rose 12% to $1.2M, led by paid search.");
    assert_eq!(v["narrative"]["keyTakeaways"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["sections"][0],
        serde_json::json!({"id": "rev_channel", "title": "Revenue by channel", "rowCount": 12})
    );
    let arts = v["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), input.artifacts.len());
    for (json, original) in arts.iter().zip(&input.artifacts) {
        assert_eq!(
            (json["format"].as_str(), json["filename"].as_str()),
            (Some(original.format.as_str()), Some(original.filename.as_str()))
        );
        assert_eq!(json["mediaType"], original.media_type.as_str());
        assert_eq!(json["sizeBytes"], original.bytes.len());
        assert!(json.get("url").is_none());
        let decoded = STANDARD.decode(json["base64"].as_str().unwrap()).unwrap();
        assert_eq!(decoded.as_slice(), original.bytes.as_slice());
        assert_eq!(json["sha256"], hex::encode(Sha256::digest(&decoded)).as_str());
    }
}

#[tokio::test]
async fn webhook_links_artifacts_over_the_inline_cap_and_marks_tests() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let mut input = sample_input();
    input.is_test = true;
    input.narrative = None;
    let settings = Settings { webhook_inline_max_bytes: 1000, ..fast() };
    let dest = Destination::Webhook { url: format!("{}/hook", server.uri()), secret: None, headers: vec![] };
    assert_eq!(run(&dest, &input, &settings).await.0.status, DeliveryStatus::Delivered);
    let v: Value = serde_json::from_slice(&requests(&server).await[0].body).unwrap();
    assert_eq!(v["event"], "report.test");
    assert!(v["narrative"].is_null());
    for (json, original) in v["artifacts"].as_array().unwrap().iter().zip(&input.artifacts) {
        assert!(json.get("base64").is_none());
        assert_eq!(json["url"], original.download_url.as_str());
        assert_eq!(json["sha256"], original.sha256.as_str());
    }
}

/// An independent Standard Webhooks signature: HMAC-SHA256 over "id.timestamp.body", base64.
fn independent_signature(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn webhook_signature_verifies_and_its_id_is_stable_across_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let key = b"an independent 32-byte test key!";
    let headers = vec![("webhook-id".to_string(), "forged".to_string()), ("X-Tenant".to_string(), "acme".to_string())];
    let dest = Destination::Webhook {
        url: format!("{}/hook", server.uri()),
        secret: Some(format!("whsec_{}", STANDARD.encode(key))),
        headers,
    };
    let input = sample_input();
    let (out, seen) = run(&dest, &input, &fast()).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Delivered, 2));
    assert_eq!(seen.iter().map(|r| r.http_status).collect::<Vec<_>>(), vec![Some(503), Some(200)]);
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    let now = chrono::Utc::now().timestamp();
    for req in &reqs {
        let header = |name: &str| req.headers[name].to_str().unwrap().to_string();
        assert_eq!(header("webhook-id"), input.delivery_id, "the custom header cannot forge it");
        assert_eq!(header("x-tenant"), "acme");
        assert_eq!(header("content-type"), "application/json");
        let ts = header("webhook-timestamp");
        assert!((now - ts.parse::<i64>().unwrap()).abs() < 60);
        assert_eq!(header("webhook-signature"), independent_signature(key, &input.delivery_id, &ts, &req.body));
    }
}

#[tokio::test]
async fn a_plain_secret_signs_with_its_own_bytes() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let dest = Destination::Webhook {
        url: format!("{}/hook", server.uri()),
        secret: Some("plain-text-secret".into()),
        headers: vec![],
    };
    let input = sample_input();
    assert_eq!(run(&dest, &input, &fast()).await.0.status, DeliveryStatus::Delivered);
    let req = &requests(&server).await[0];
    let ts = req.headers["webhook-timestamp"].to_str().unwrap();
    let want = independent_signature(b"plain-text-secret", &input.delivery_id, ts, &req.body);
    assert_eq!(req.headers["webhook-signature"].to_str().unwrap(), want);
}

/// Every error text of an outcome: the final one and each attempt's.
fn all_errors(out: &Outcome) -> Vec<String> {
    out.error.iter().chain(out.attempt_log.iter().filter_map(|r| r.error.as_ref())).cloned().collect()
}

#[tokio::test]
async fn errors_never_contain_the_url_the_signing_secret_or_header_values() {
    let server = MockServer::start().await;
    let url = format!("{}/hooks/path-token-5f3a9c", server.uri());
    let b64 = STANDARD.encode(b"signing-key-material-0123456789");
    let secret = format!("whsec_{b64}");
    let header_value = "header-value-secret-987";
    let echo = format!("bad request to {url} with {secret} and {b64} and {header_value}");
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(400).set_body_string(echo)).mount(&server).await;
    let headers = vec![("X-Api-Key".to_string(), header_value.to_string())];
    let dest = Destination::Webhook { url: url.clone(), secret: Some(secret.clone()), headers };
    let (out, _) = run(&dest, &sample_input(), &fast()).await;
    assert_eq!(out.status, DeliveryStatus::Failed);
    let slack_dest =
        Destination::Slack { webhook_url: format!("http://127.0.0.1:{}/services/T1/B2/slackTok3n", unused_port()) };
    let (refused, _) = run(&slack_dest, &sample_input(), &Settings { max_attempts: 2, ..fast() }).await;
    let errors = [all_errors(&out), all_errors(&refused)].concat();
    assert!(errors[0].starts_with("HTTP 400: bad request to [redacted]"), "{}", errors[0]);
    for e in &errors {
        for s in [
            url.as_str(),
            "path-token-5f3a9c",
            secret.as_str(),
            b64.as_str(),
            header_value,
            "slackTok3n",
            "/services/T1",
        ] {
            assert!(!e.contains(s), "{e:?} contains {s:?}");
        }
        assert!(e.chars().count() <= MAX_ERROR_CHARS + 60, "{e}");
    }
    assert!(!format!("{dest:?} {slack_dest:?}").contains("Tok3n"), "Debug hides secrets");
}

#[test]
fn statuses_read_as_the_ledger_stores_them() {
    let all = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Accepted,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
    ];
    let texts: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
    assert_eq!(texts, ["pending", "delivered", "accepted", "failed", "skipped"]);
    assert_eq!(serde_json::to_value(DeliveryStatus::Accepted).unwrap(), "accepted");
    let kinds: Vec<&str> = [
        Destination::Slack { webhook_url: String::new() },
        Destination::Teams { webhook_url: String::new() },
        Destination::Email { from: String::new(), to: vec![], reply_to: None },
        Destination::Webhook { url: String::new(), secret: None, headers: vec![] },
    ]
    .iter()
    .map(Destination::kind)
    .collect();
    assert_eq!(kinds, ["slack", "teams", "email", "webhook"]);
}

#[test]
fn settings_default_to_the_documented_limits_and_hide_the_smtp_url() {
    let s = Settings { smtp_url: Some("smtps://u:topsecret@mail.example.com".into()), ..Settings::default() };
    assert_eq!(
        (s.attempt_timeout, s.max_attempts, s.max_total),
        (Duration::from_secs(15), 5, Duration::from_secs(120))
    );
    assert_eq!((s.email_max_bytes, s.webhook_inline_max_bytes), (10 * 1024 * 1024, 5 * 1024 * 1024));
    assert!(!format!("{s:?}").contains("topsecret"));
}

#[tokio::test]
async fn slack_and_teams_show_the_headline_chart_when_they_can_fetch_it_and_text_alone_otherwise() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let teams = Destination::Teams { webhook_url: format!("{}/workflows/abc", server.uri()) };
    let url = "https://reports.example.com/api/v1/reports/runs/run-1/charts/0?expires=1&sig=abc";
    let mut with = sample_input();
    with.headline_chart = Some((url.into(), "Revenue trend".into()));
    for input in [&with, &sample_input()] {
        run(&slack(&server), input, &fast()).await;
        run(&teams, input, &fast()).await;
    }
    let reqs = requests(&server).await;
    let body = |i: usize| serde_json::from_slice::<Value>(&reqs[i].body).unwrap();
    let images = |v: &Value, key: &str| -> Vec<Value> {
        v.as_array().into_iter().flatten().filter(|b| b["type"] == key).cloned().collect()
    };
    let slack_images = images(&body(0)["blocks"], "image");
    assert_eq!(slack_images.len(), 1);
    assert_eq!(
        (slack_images[0]["image_url"].as_str(), slack_images[0]["alt_text"].as_str()),
        (Some(url), Some("Revenue trend"))
    );
    let teams_images = images(&body(1)["attachments"][0]["content"]["body"], "Image");
    assert_eq!((teams_images.len(), teams_images[0]["url"].as_str()), (1, Some(url)));
    assert!(images(&body(2)["blocks"], "image").is_empty(), "no reachable URL: Slack gets text only");
    assert!(images(&body(3)["attachments"][0]["content"]["body"], "Image").is_empty(), "and Teams too");
}

#[test]
fn chat_apps_reach_only_a_public_https_address() {
    use crate::engine::scheduler::runs::public_reachable as ok;
    assert!(ok("https://reports.example.com"));
    assert!(ok("https://93.184.215.14:8443"), "a public address");
    for no in [
        "http://reports.example.com",
        "https://localhost:3000",
        "https://127.0.0.1",
        "https://10.1.2.3",
        "https://narrate.internal",
        "https://box.local",
        "https://intranet",
        "https://[::1]",
        "not a url",
    ] {
        assert!(!ok(no), "{no}");
    }
}
