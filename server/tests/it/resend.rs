//! Re-sending one delivery (PRODUCT §13) and Run Now's conflict answer: a failed delivery re-sent
//! after the receiver recovers is delivered with one new attempt — same delivery id, who asked
//! recorded — while the run record stays as it was; only failed or unknown deliveries of a
//! finished run can be re-sent, by an editor of its tenant; and a second Run Now while a run is
//! queued or running answers 409 with that run's id.

use crate::common;

use app::model::Role;
use serde_json::Value;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn run_of(app: &common::TestApp, c: &reqwest::Client, id: &str) -> Value {
    c.get(app.url(&format!("/api/v1/reports/runs/{id}"))).send().await.unwrap().json().await.unwrap()
}

db_test!(a_failed_delivery_is_resent_once_the_receiver_recovers_and_the_run_record_stays, |app| {
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&sink)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&sink).await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Receiver", &format!("{}/hook", sink.uri())).await;
    let editor = app.client_as(&t, Role::Editor).await;
    let tpl = common::small_report(&editor, &app.base, "Weekly", "0 8 * * 1", &[dest]).await;
    let r = editor
        .post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    let run_id = r.json::<Value>().await.unwrap()["runId"].as_str().unwrap().to_string();
    common::wait_settled(&app.state.db.pool, 1, Duration::from_secs(30)).await;
    let before = run_of(&app, &editor, &run_id).await;
    assert_eq!(
        (before["status"].as_str(), before["deliveries"][0]["status"].as_str()),
        (Some("failed"), Some("failed"))
    );
    let delivery = before["deliveries"][0]["id"].as_str().unwrap().to_string();
    let resend = app.url(&format!("/api/v1/reports/runs/{run_id}/deliveries/{delivery}/resend"));

    let viewer = app.client_as(&t, Role::Viewer).await;
    assert_eq!(viewer.post(&resend).send().await.unwrap().status(), 403, "viewers cannot re-send");
    let other = app.tenant("globex").await;
    let stranger = app.client_as(&other, Role::Admin).await;
    assert_eq!(stranger.post(&resend).send().await.unwrap().status(), 404, "another tenant's run does not exist");

    let r = editor.post(&resend).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let mut after = Value::Null;
    for _ in 0..100 {
        after = run_of(&app, &editor, &run_id).await;
        if after["deliveries"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = &after["deliveries"][0];
    assert_eq!((d["status"].as_str(), d["runStatus"].as_str()), (Some("delivered"), Some("failed")), "{after}");
    assert_eq!(d["resends"][0]["requestedBy"], "editor@acme.test");
    let history = d["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "one new attempt: {d}");
    assert_eq!((history[1]["number"].as_i64(), history[1]["resend"].as_bool()), (Some(2), Some(true)));
    for k in ["status", "finishedAt", "durationMs", "error", "artifacts", "narrative"] {
        assert_eq!(after[k], before[k], "the run record's {k} is unchanged");
    }
    let seen = sink.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].headers["webhook-id"], seen[1].headers["webhook-id"], "the same delivery id");
    let again = editor.post(&resend).send().await.unwrap();
    assert_eq!(again.status(), 409, "a delivered delivery is not re-sent");
    let audit: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'delivery.resend'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap(),
        0,
    );
    assert_eq!(audit, 1);
});

db_test!(run_now_while_a_run_is_in_flight_answers_409_with_that_run, |app| {
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&sink)
        .await;
    let t = app.tenant("acme").await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Slow", &format!("{}/hook", sink.uri())).await;
    let tpl = common::small_report(&admin, &app.base, "Weekly", "0 8 * * 1", &[dest]).await;
    let url = app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap()));
    let (a, b) = tokio::join!(admin.post(&url).send(), admin.post(&url).send());
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [202, 409], "two clicks, one run");
    let (ok, conflict) = if a.status() == 202 { (a, b) } else { (b, a) };
    let run: Value = ok.json().await.unwrap();
    let body: Value = conflict.json().await.unwrap();
    assert_eq!(body["error"]["code"], "CONFLICT");
    assert_eq!(body["runId"], run["runId"], "the conflict names the run in flight: {body}");
    common::wait_settled(&app.state.db.pool, 1, Duration::from_secs(30)).await;
    assert_eq!(admin.post(&url).send().await.unwrap().status(), 202, "once it finished, Run Now works again");
    common::wait_settled(&app.state.db.pool, 2, Duration::from_secs(30)).await;
    assert_eq!(common::assert_no_duplicates(&common::received(&sink).await), 2);
});
