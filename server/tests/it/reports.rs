//! Saved reports through the API: atomic template + schedule creation, validation, Run Now with
//! the ledger, run immutability on both databases, artifact downloads, roles and tenants.

use crate::common;

use app::model::Role;
use common::{TestApp, NOW};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn demo(app: &TestApp) -> (common::Tenant, reqwest::Client) {
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 3, 0.05, NOW).await.unwrap();
    let c = app.client_as(&t, Role::Editor).await;
    (t, c)
}

fn weekly(name: &str, destinations: Vec<String>) -> Value {
    json!({
        "name": name, "dashboard": "executive", "period": "7d", "segmentId": null, "formats": ["pdf", "csv"],
        "narrative": {"enabled": true, "prompt": null}, "fallbackDestinations": [], "enabled": true,
        "schedule": {"name": "Weekly", "cronExpression": "0 8 * * 1", "timezone": "Europe/Paris", "destinations": destinations, "enabled": true},
    })
}

/// Creates a template (201) and returns its JSON.
async fn create(app: &TestApp, c: &reqwest::Client, body: &Value) -> Value {
    let r = c.post(app.url("/api/v1/reports/templates")).json(body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn wait_finished(app: &TestApp, c: &reqwest::Client, run: &str) -> Value {
    for _ in 0..600 {
        let r: Value =
            c.get(app.url(&format!("/api/v1/reports/runs/{run}"))).send().await.unwrap().json().await.unwrap();
        if r["phase"] == "finished" {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} did not finish");
}

db_test!(a_template_and_its_schedule_are_created_together_with_next_run_and_words, |app| {
    let (_, c) = demo(&app).await;
    let r = c.post(app.url("/api/v1/reports/templates")).json(&weekly("Exec weekly", vec![])).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    let s = &t["schedules"][0];
    assert!(s["id"].as_str().is_some());
    assert_eq!(s["description"], "Every Monday at 08:00 Europe/Paris");
    // NOW is Monday 2026-11-30 12:00 UTC: the next Monday 08:00 Paris is 2026-12-07 07:00 UTC.
    assert_eq!(s["nextRunAt"], "2026-12-07T07:00:00Z");
    let list: Value = c.get(app.url("/api/v1/reports/templates")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"][0]["name"], "Exec weekly");
});

db_test!(if_the_schedule_cannot_be_stored_no_template_is_left_behind, |app| {
    let (_, c) = demo(&app).await;
    let trigger = match app.state.db.dialect {
        app::engine::db::Dialect::Sqlite => vec!["CREATE TRIGGER boom BEFORE INSERT ON report_schedules BEGIN SELECT RAISE(ABORT, 'forced failure'); END"],
        app::engine::db::Dialect::Postgres => vec![
            "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER boom BEFORE INSERT ON report_schedules FOR EACH ROW EXECUTE FUNCTION boom()",
        ],
    };
    for sql in trigger {
        sqlx::query(sql).execute(&app.state.db.pool).await.unwrap();
    }
    let r = c.post(app.url("/api/v1/reports/templates")).json(&weekly("Doomed", vec![])).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let n: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_templates").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(n, 0, "both or neither");
});

db_test!(bad_cron_zone_format_name_and_destination_get_field_errors, |app| {
    let (_, c) = demo(&app).await;
    let mut body = weekly("", vec!["nope".into()]);
    body["formats"] = json!(["docx"]);
    body["schedule"]["cronExpression"] = json!("61 8 * * 1");
    body["schedule"]["timezone"] = json!("Mars/Olympus");
    let r = c.post(app.url("/api/v1/reports/templates")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    for f in ["name", "formats[0]", "schedule.timezone", "schedule.cronExpression", "schedule.destinations[0]"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let cron_msg =
        e["error"]["details"].as_array().unwrap().iter().find(|d| d["field"] == "schedule.cronExpression").unwrap()
            ["message"]
            .as_str()
            .unwrap()
            .to_string();
    assert!(cron_msg.contains("minute field"), "{cron_msg}");
    let mut never = weekly("Never", vec![]);
    never["schedule"]["cronExpression"] = json!("0 0 31 2 *");
    let e: Value =
        c.post(app.url("/api/v1/reports/templates")).json(&never).send().await.unwrap().json().await.unwrap();
    assert!(e["error"]["details"][0]["message"].as_str().unwrap().contains("never fires"));
    let mut often = weekly("Often", vec![]);
    often["schedule"]["cronExpression"] = json!("*/5 * * * *");
    let e: Value =
        c.post(app.url("/api/v1/reports/templates")).json(&often).send().await.unwrap().json().await.unwrap();
    assert!(e["error"]["details"][0]["message"].as_str().unwrap().contains("minimum interval is 15 minutes"));
    let p: Value = c
        .get(app.url("/api/v1/reports/schedules/preview?cron=0%208%20*%20*%201&timezone=Europe/Paris&count=3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["next"], json!(["2026-12-07T07:00:00Z", "2026-12-14T07:00:00Z", "2026-12-21T07:00:00Z"]));
    let n: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_templates").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(n, 0);
});

db_test!(run_now_with_one_failing_destination_is_partial_and_both_are_recorded, |app| {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/ok")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("POST")).and(path("/bad")).respond_with(ResponseTemplate::new(400)).mount(&server).await;
    let (t, c) = demo(&app).await;
    let admin = app.client_as(&t, Role::Admin).await;
    let mut ids = Vec::new();
    for p in ["/ok", "/bad"] {
        ids.push(app.webhook(&admin, &format!("hook {p}"), &format!("{}{p}", server.uri())).await);
    }
    let tpl = create(&app, &c, &weekly("Exec", ids)).await;
    let r = c
        .post(app.url(&format!("/api/v1/reports/templates/{}/run-now", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let run_id = r.json::<Value>().await.unwrap()["runId"].as_str().unwrap().to_string();
    let run = wait_finished(&app, &c, &run_id).await;
    assert_eq!(run["status"], "partial");
    assert_eq!(run["trigger"], "run_now");
    let d = run["deliveries"].as_array().unwrap();
    assert_eq!(d.len(), 2);
    let st = |n: &str| d.iter().find(|x| x["name"] == n).unwrap()["status"].as_str().unwrap().to_string();
    assert_eq!((st("hook /ok").as_str(), st("hook /bad").as_str()), ("delivered", "failed"));
    assert_eq!(run["artifacts"].as_array().unwrap().len(), 2);
    assert!(run["narrative"]["executiveSummary"].as_str().unwrap().len() > 20);
    // The artifact download equals the stored SHA-256.
    for a in run["artifacts"].as_array().unwrap() {
        let f = a["format"].as_str().unwrap();
        let resp = c.get(app.url(&format!("/api/v1/reports/runs/{run_id}/artifacts/{f}"))).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-disposition"],
            format!("attachment; filename=\"{}\"", a["filename"].as_str().unwrap())
        );
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), a["sha256"].as_str().unwrap());
        assert_eq!(bytes.len() as i64, a["sizeBytes"].as_i64().unwrap());
    }
    let page: Value = c
        .get(app.url(&format!("/api/v1/reports/runs?templateId={}&limit=1", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (page["total"].as_i64(), page["limit"].as_i64(), page["data"][0]["id"].as_str()),
        (Some(1), Some(1), Some(run_id.as_str()))
    );
    // A finished run is immutable in the database itself.
    let upd = sqlx::query("UPDATE report_runs SET status = 'succeeded' WHERE id = $1")
        .bind(&run_id)
        .execute(&app.state.db.pool)
        .await;
    assert!(upd.is_err(), "the database refuses to change a finished run");
    let t2: Value = c
        .get(app.url(&format!("/api/v1/reports/templates/{}", tpl["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t2["lastRunStatus"], "partial");
});

db_test!(every_report_endpoint_refuses_other_tenants_with_404_and_lower_roles_with_403, |app| {
    let (t, c) = demo(&app).await;
    let tpl = create(&app, &c, &weekly("Mine", vec![])).await;
    let id = tpl["id"].as_str().unwrap();
    let sid = tpl["schedules"][0]["id"].as_str().unwrap();
    let run = c
        .post(app.url(&format!("/api/v1/reports/templates/{id}/run-now")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["runId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_finished(&app, &c, &run).await;
    let viewer = app.client_as(&t, Role::Viewer).await;
    assert_eq!(viewer.get(app.url(&format!("/api/v1/reports/templates/{id}"))).send().await.unwrap().status(), 200);
    assert_eq!(
        viewer.post(app.url("/api/v1/reports/templates")).json(&weekly("No", vec![])).send().await.unwrap().status(),
        403
    );
    assert_eq!(
        viewer.post(app.url(&format!("/api/v1/reports/templates/{id}/run-now"))).send().await.unwrap().status(),
        403
    );
    assert_eq!(
        viewer
            .patch(app.url(&format!("/api/v1/reports/schedules/{sid}")))
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(viewer.delete(app.url(&format!("/api/v1/reports/templates/{id}"))).send().await.unwrap().status(), 403);
    let other = app.tenant("globex").await;
    let o = app.client_as(&other, Role::Admin).await;
    for url in [
        format!("/api/v1/reports/templates/{id}"),
        format!("/api/v1/reports/schedules/{sid}"),
        format!("/api/v1/reports/runs/{run}"),
        format!("/api/v1/reports/runs/{run}/artifacts/pdf"),
    ] {
        assert_eq!(o.get(app.url(&url)).send().await.unwrap().status(), 404, "{url}");
    }
    assert_eq!(o.post(app.url(&format!("/api/v1/reports/templates/{id}/run-now"))).send().await.unwrap().status(), 404);
    assert_eq!(o.delete(app.url(&format!("/api/v1/reports/schedules/{sid}"))).send().await.unwrap().status(), 404);
    // Deleting a template deletes its schedules.
    assert_eq!(c.delete(app.url(&format!("/api/v1/reports/templates/{id}"))).send().await.unwrap().status(), 204);
    assert_eq!(c.get(app.url(&format!("/api/v1/reports/schedules/{sid}"))).send().await.unwrap().status(), 404);
});

db_test!(artifacts_past_the_retention_window_lose_their_bytes_but_the_run_keeps_its_record, |app| {
    // Default retention: 90 days (NARRATE_ARTIFACT_RETENTION_DAYS).
    assert_eq!(app.state.config.artifact_retention_days, 90);
    let (t, c) = demo(&app).await;
    let tpl = create(&app, &c, &weekly("Kept", vec![])).await;
    let id = tpl["id"].as_str().unwrap();
    let r: Value =
        c.post(app.url(&format!("/api/v1/reports/templates/{id}/run-now"))).send().await.unwrap().json().await.unwrap();
    let run_id = r["runId"].as_str().unwrap().to_string();
    let before = wait_finished(&app, &c, &run_id).await;
    let pdf = format!("/api/v1/reports/runs/{run_id}/artifacts/pdf");
    const DAY: i64 = 86_400_000;
    // Day 89: a tick keeps the bytes.
    app.state.clock.advance(89 * DAY);
    app.tick().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // pruning runs beside the tick
    let c = app.client_as(&t, Role::Editor).await; // sessions last hours, not months
    assert_eq!(c.get(app.url(&pdf)).send().await.unwrap().status(), 200);
    // Day 91: the next tick prunes them.
    app.state.clock.advance(2 * DAY);
    app.tick().await;
    let c = app.client_as(&t, Role::Editor).await;
    let mut gone = c.get(app.url(&pdf)).send().await.unwrap();
    for _ in 0..100 {
        if gone.status() == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await; // pruning runs beside the tick
        gone = c.get(app.url(&pdf)).send().await.unwrap();
    }
    assert_eq!(gone.status(), 404);
    let err: Value = gone.json().await.unwrap();
    assert!(err["error"]["message"].as_str().unwrap().contains("retention"), "{err}");
    // The run itself — status, narrative, sizes and checksums — is still there.
    let after: Value =
        c.get(app.url(&format!("/api/v1/reports/runs/{run_id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["status"], before["status"]);
    assert_eq!(after["narrative"], before["narrative"]);
    for (a, b) in after["artifacts"].as_array().unwrap().iter().zip(before["artifacts"].as_array().unwrap()) {
        assert_eq!((&a["sha256"], &a["sizeBytes"], &a["pruned"]), (&b["sha256"], &b["sizeBytes"], &json!(true)));
        assert_eq!(a["keptDays"], 90, "the page says how long artifacts are kept: {a}");
        assert!(b.get("keptDays").is_none(), "only a pruned artifact carries it: {b}");
    }
});

db_test!(lists_in_a_report_body_are_capped_and_de_duplicated, |app| {
    let (t, c) = demo(&app).await;
    let admin = app.client_as(&t, Role::Admin).await;
    let dest = app.webhook(&admin, "Desk", "http://127.0.0.1:9/hook").await;
    let mut body = weekly("Twice", vec![dest.clone(), dest.clone(), dest.clone()]);
    let created = create(&app, &c, &body).await;
    assert_eq!(created["schedules"][0]["destinations"], json!([dest]), "duplicates collapse to one");
    body["schedule"]["destinations"] = json!((0..25).map(|i| format!("d{i}")).collect::<Vec<_>>());
    body["formats"] = json!(vec!["pdf"; 11]);
    body["params"] = json!((0..11).map(|i| (format!("k{i}"), "v")).collect::<std::collections::BTreeMap<_, _>>());
    let r = c.post(app.url("/api/v1/reports/templates")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    for f in ["schedule.destinations", "formats", "params"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert!(e["error"]["details"].as_array().unwrap().len() < 40, "one error per capped list, not one per entry");
});
