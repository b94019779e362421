//! No configured secret ever leaves the server: every API answer, server-rendered page and log
//! line of a session that configures all of them and makes each one fail is searched for them.
//!
//! The receivers misbehave on purpose — they answer errors that *echo* the secrets back, as real
//! services sometimes do — so the redaction on every error path is exercised, not just the happy
//! one. Logs are captured at `debug` for every crate, more than production writes (`info`).

use crate::common;

use app::model::Role;
use common::{Backend, TestApp, NOW};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SLACK_TOKEN: &str = "slacktokenSECRET0001";
const TEAMS_TOKEN: &str = "teamstokenSECRET0002";
const HOOK_SECRET: &str = "whsec-signing-SECRET-0003";
const HOOK_HEADER: &str = "bearer-header-SECRET-0004";
const AI_KEY: &str = "sk-live-SECRET-0006";
const SMTP_PASSWORD: &str = "smtp-password-SECRET-0007";
// The webhook's URL is not a secret (the destinations API shows it); its signing secret and headers are.
const ALL: [&str; 6] = [SLACK_TOKEN, TEAMS_TOKEN, HOOK_SECRET, HOOK_HEADER, AI_KEY, SMTP_PASSWORD];

/// Everything written through `tracing` in this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            // The test's own receivers (wiremock) log what they were sent; only the server counts.
            .with_env_filter("debug,wiremock=off")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
    .clone()
}

/// A mail server that greets, then refuses everything with a reply quoting the password.
async fn hostile_smtp() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 mail.test ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let cmd = line.to_ascii_uppercase();
                    let reply = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n".to_string()
                    } else if cmd.starts_with("QUIT") {
                        "221 bye\r\n".to_string()
                    } else {
                        format!("535 5.7.8 credentials narrate:{SMTP_PASSWORD} rejected\r\n")
                    };
                    if w.write_all(reply.as_bytes()).await.is_err() || cmd.starts_with("QUIT") {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn leaks(text: &str) -> Vec<&'static str> {
    ALL.iter().copied().filter(|s| text.contains(s)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_response_page_or_log_line_contains_a_configured_secret() {
    let logs = capture_logs();
    let echo = MockServer::start().await;
    // Each receiver fails with a body that quotes the secret it was given.
    Mock::given(method("POST"))
        .and(path_regex("^/services/"))
        .respond_with(ResponseTemplate::new(403).set_body_string(format!("invalid_token {SLACK_TOKEN}")))
        .mount(&echo)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/webhookb2/"))
        .respond_with(ResponseTemplate::new(400).set_body_string(format!("bad card for /webhookb2/{TEAMS_TOKEN}")))
        .mount(&echo)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string(format!("signature {HOOK_SECRET} / auth {HOOK_HEADER} refused")),
        )
        .mount(&echo)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": format!("Incorrect API key provided: {AI_KEY}")}})),
        )
        .mount(&echo)
        .await;
    let smtp = hostile_smtp().await;
    let smtp_url = format!("smtp://narrate:{SMTP_PASSWORD}@127.0.0.1:{smtp}");
    let app = TestApp::start_with(Backend::Sqlite, &[("NARRATE_SMTP_URL", smtp_url.as_str())]).await.unwrap();
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 5, 0.05, NOW).await.unwrap();
    let admin = app.client_as(&t, Role::Admin).await;
    let mut seen: Vec<(String, String)> = Vec::new();
    macro_rules! keep {
        ($what:expr, $resp:expr) => {{
            let r = $resp.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            seen.push(($what.to_string(), text.clone()));
            (status, text)
        }};
    }

    // The tenant's AI provider, with a key the provider will quote back.
    let (s, _) = keep!(
        "PUT ai provider",
        admin.put(app.url("/api/v1/ai/provider")).json(&json!({
            "provider": "openai", "model": "gpt-test", "apiKey": AI_KEY, "baseUrl": echo.uri()
        }))
    );
    assert_eq!(s, 200);
    // One destination of each kind, each with its secret.
    let base = echo.uri();
    let configs = [
        ("slack", "Slack", json!({"webhookUrl": format!("{base}/services/T1/B1/{SLACK_TOKEN}")})),
        ("teams", "Teams", json!({"webhookUrl": format!("{base}/webhookb2/{TEAMS_TOKEN}")})),
        (
            "webhook",
            "Hook",
            json!({"url": format!("{base}/hook"), "secret": HOOK_SECRET,
                   "headers": {"Authorization": HOOK_HEADER}}),
        ),
        ("email", "Mail", json!({"from": "reports@acme.test", "to": ["ceo@acme.test"]})),
    ];
    let mut ids = Vec::new();
    for (kind, name, config) in configs {
        let (s, body) = keep!(
            format!("POST destination {kind}"),
            admin
                .post(app.url("/api/v1/notifications/destinations"))
                .json(&json!({"kind": kind, "name": name, "config": config}))
        );
        assert_eq!(s, 201, "{body}");
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap().to_string();
        // The Test button fails against each hostile receiver; its error is shown to the user.
        let (s, body) = keep!(
            format!("test {kind}"),
            admin.post(app.url(&format!("/api/v1/notifications/destinations/{id}/test")))
        );
        assert_eq!(s, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "failed", "{kind}: {body}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{kind}: the user sees why");
        keep!(
            format!("GET destination {kind}"),
            admin.get(app.url(&format!("/api/v1/notifications/destinations/{id}")))
        );
        ids.push(id);
    }
    keep!("GET destinations", admin.get(app.url("/api/v1/notifications/destinations")));
    keep!("GET ai provider", admin.get(app.url("/api/v1/ai/provider")));
    let (_, body) = keep!("test ai provider", admin.post(app.url("/api/v1/ai/provider/test")));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ok"], false, "{body}");

    // A report delivering to all four, run now: the narrative falls back, every delivery fails.
    let (s, body) = keep!(
        "POST template",
        admin.post(app.url("/api/v1/reports/templates")).json(&json!({
            "name": "Everything", "dashboard": "executive", "formats": ["pdf", "md"],
            "narrative": {"enabled": true},
            "schedule": {"cronExpression": "0 8 * * 1", "timezone": "UTC", "destinations": ids}
        }))
    );
    assert_eq!(s, 201, "{body}");
    let tpl = serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap().to_string();
    let (s, body) = keep!("run now", admin.post(app.url(&format!("/api/v1/reports/templates/{tpl}/run-now"))));
    assert_eq!(s, 202);
    let run = serde_json::from_str::<Value>(&body).unwrap()["runId"].as_str().unwrap().to_string();
    let mut finished = Value::Null;
    for _ in 0..1200 {
        let (_, body) = keep!("GET run", admin.get(app.url(&format!("/api/v1/reports/runs/{run}"))));
        let v: Value = serde_json::from_str(&body).unwrap();
        if v["phase"] == "finished" {
            finished = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(finished["status"], "failed", "every destination failed: {finished}");
    assert_eq!(finished["narrative"]["fallback"], true, "the AI provider's 401 made the built-in narrator answer");
    assert_eq!(finished["deliveries"].as_array().unwrap().len(), 4);
    keep!("GET runs", admin.get(app.url(&format!("/api/v1/reports/runs?templateId={tpl}"))));
    keep!("GET template", admin.get(app.url(&format!("/api/v1/reports/templates/{tpl}"))));
    for f in ["pdf", "md"] {
        keep!(format!("artifact {f}"), admin.get(app.url(&format!("/api/v1/reports/runs/{run}/artifacts/{f}"))));
    }
    // The pages people look at, rendered on the server.
    let pages = [
        "/settings/integrations".to_string(),
        "/settings/reports".to_string(),
        format!("/settings/reports/{tpl}"),
        format!("/reports/runs/{run}"),
        "/dashboards/executive".to_string(),
    ];
    for page in &pages {
        let (s, _) = keep!(format!("page {page}"), admin.get(app.url(page)));
        assert_eq!(s, 200, "{page}");
    }
    keep!("metrics", app.plain().get(app.url("/metrics")));
    // Bad input echoes fields back in errors: a malformed update must not echo the stored secret.
    keep!(
        "PATCH destination bad",
        admin
            .patch(app.url(&format!("/api/v1/notifications/destinations/{}", ids[2])))
            .json(&json!({"config": {"url": "not a url", "secret": "••••••••"}}))
    );

    for (what, text) in &seen {
        assert!(leaks(text).is_empty(), "{what} answered a secret {:?}", leaks(text));
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(logged.contains(&run), "the run was logged, so the search below covers it");
    assert!(logged.contains("narrative.fallback"), "the provider failure was logged");
    let lines: Vec<&str> = logged.lines().collect();
    let bad: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !leaks(l).is_empty())
        .map(|(i, l)| {
            format!(
                "{}\n  {l}",
                lines[..i]
                    .iter()
                    .rev()
                    .find(|p| p.contains(" DEBUG ") || p.contains(" INFO ") || p.contains(" WARN "))
                    .unwrap_or(&"")
            )
        })
        .collect();
    assert!(bad.is_empty(), "log lines with a secret:\n{}", bad.join("\n"));
}
