//! "Send only when…" and page setup on saved reports: the condition is decided on the demo's
//! injected incidents (Cashback Bonus' acceptance drop, the Braze connector failing, the XGBoost
//! AUC decay), a run that does not send is `skipped` with its reason and reaches no destination,
//! bad conditions are refused whole, and a template's page setup shapes its PDF artifact.

use crate::common;

use app::model::Role;
use common::{TestApp, NOW};
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn full_demo(app: &TestApp) -> (common::Tenant, reqwest::Client) {
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, app::engine::demo::DEFAULT_SEED, 1.0, NOW).await.unwrap();
    let c = app.client_as(&t, Role::Editor).await;
    (t, c)
}

fn template(name: &str, dashboard: &str, period: &str, send_when: Value, dests: &[String]) -> Value {
    json!({
        "name": name, "dashboard": dashboard, "period": period, "formats": ["pdf"],
        "narrative": {"enabled": true}, "fallbackDestinations": dests, "sendWhen": send_when,
    })
}

async fn run_now(app: &TestApp, c: &reqwest::Client, template_id: &str) -> Value {
    let r = c.post(app.url(&format!("/api/v1/reports/templates/{template_id}/run-now"))).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["runId"].as_str().unwrap().to_string();
    for _ in 0..1200 {
        let run: Value =
            c.get(app.url(&format!("/api/v1/reports/runs/{id}"))).send().await.unwrap().json().await.unwrap();
        if run["phase"] == "finished" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

/// The first KPI key of a dashboard view, as the screen has it.
async fn first_kpi(app: &TestApp, c: &reqwest::Client, dashboard: &str) -> String {
    let d: Value = c
        .get(app.url(&format!("/api/v1/dashboards/{dashboard}?period=7d")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = d["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["table"])
        .find(|t| t["columns"].as_array().is_some_and(|cs| cs.iter().any(|c| c["key"] == "chip")));
    let t = t.expect("a KPI table");
    let col = t["columns"].as_array().unwrap().iter().position(|c| c["key"] == "metric").unwrap();
    t["rows"][0][col].as_str().unwrap().to_string()
}

db_test!(a_report_that_sends_only_on_news_is_skipped_with_its_reason_or_delivered_as_the_data_warrants, |app| {
    let sink = MockServer::start().await;
    Mock::given(method("POST")).and(path("/hook")).respond_with(ResponseTemplate::new(200)).mount(&sink).await;
    let (t, c) = full_demo(&app).await;
    let admin = app.client_as(&t, Role::Admin).await;
    let hook = app.webhook(&admin, "news", &format!("{}/hook", sink.uri())).await;
    let kpi = first_kpi(&app, &c, "executive").await;
    let anomaly = |min: &str| json!({"kind": "anomaly", "minSeverity": min});
    let cases: [(&str, &str, Value, Option<&str>); 7] = [
        ("business", "7d", anomaly("warning"), Some("Not sent: no anomaly or problem of at least warning was found")),
        ("executive", "7d", anomaly("warning"), None),
        ("data-health", "7d", anomaly("critical"), None),
        ("model-health", "30d", anomaly("critical"), None),
        (
            "executive",
            "7d",
            json!({"kind": "kpiChange", "kpi": kpi, "changePct": 10000}),
            Some("less than the ±10000 % asked"),
        ),
        ("business", "7d", json!({"kind": "hasData"}), None),
        ("business", "7d", json!({"kind": "always"}), None),
    ];
    let mut sent = 0;
    for (i, (dashboard, period, rule, skipped)) in cases.iter().enumerate() {
        let body = template(&format!("News {i}"), dashboard, period, rule.clone(), std::slice::from_ref(&hook));
        let r = c.post(app.url("/api/v1/reports/templates")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201, "{dashboard} {rule}");
        let tpl: Value = r.json().await.unwrap();
        assert_eq!(tpl["sendWhen"]["kind"], rule["kind"], "the condition is kept");
        let run = run_now(&app, &c, tpl["id"].as_str().unwrap()).await;
        let case = format!("{dashboard} {period} {rule}");
        match skipped {
            Some(why) => {
                assert_eq!(run["status"], "skipped", "{case}: {run}");
                let reason = run["skipReason"].as_str().unwrap_or_default();
                assert!(reason.contains(why), "{case}: the reason says why: {reason}");
                assert!(run["error"].is_null(), "{case}: skipping is not an error");
                assert_eq!(run["deliveries"], json!([]), "{case}: nothing sent");
                assert_eq!(run["artifacts"], json!([]), "{case}: nothing rendered");
                assert!(!run["sections"].as_array().unwrap().is_empty(), "{case}: what the run saw is kept");
            }
            None => {
                assert_eq!(run["status"], "succeeded", "{case}: {run}");
                assert_eq!(run["deliveries"][0]["status"], "delivered", "{case}");
                assert!(run["skipReason"].is_null());
                sent += 1;
            }
        }
        let list: Value = c.get(app.url("/api/v1/reports/templates")).send().await.unwrap().json().await.unwrap();
        let mine = list["data"].as_array().unwrap().iter().find(|x| x["id"] == tpl["id"]).unwrap().clone();
        assert_eq!(mine["lastRunStatus"], run["status"], "{case}: the list shows the last run's status");
    }
    // Judged by what the destination saw: one request per run that sent, none for the skipped.
    assert_eq!(sink.received_requests().await.unwrap().len(), sent);
    // A skipped run is finished and as immutable as any other.
    let skipped_id: String = sqlx::Row::get(
        &sqlx::query("SELECT id FROM report_runs WHERE status = 'skipped' ORDER BY queued_at LIMIT 1")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap(),
        0,
    );
    let tamper = sqlx::query("UPDATE report_runs SET error = 'x' WHERE id = $1")
        .bind(&skipped_id)
        .execute(&app.state.db.pool)
        .await;
    assert!(tamper.is_err(), "the database refuses to change a skipped run");
});

db_test!(a_bad_send_condition_or_page_is_refused_whole_and_changes_nothing, |app| {
    let (_, c) = full_demo(&app).await;
    for (rule, field, says) in [
        (json!({"kind": "kpiChange", "changePct": 10}), "sendWhen.kpi", "choose the KPI"),
        (
            json!({"kind": "kpiChange", "kpi": "nope", "changePct": 10}),
            "sendWhen.kpi",
            "is not a KPI of this dashboard: one of ",
        ),
        (json!({"kind": "kpiChange", "kpi": "revenue", "changePct": 0}), "sendWhen.changePct", "above 0"),
        (json!({"kind": "anomaly", "minSeverity": "info"}), "sendWhen.minSeverity", "warning or critical"),
    ] {
        let r = c
            .post(app.url("/api/v1/reports/templates"))
            .json(&template("Bad", "executive", "7d", rule.clone(), &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{rule}");
        let e: Value = r.json().await.unwrap();
        let d = e["error"]["details"].as_array().unwrap().iter().find(|d| d["field"] == field).cloned();
        let d = d.unwrap_or_else(|| panic!("{rule}: no {field} in {e}"));
        assert!(d["message"].as_str().unwrap().contains(says), "{rule}: {d}");
    }
    for (bad, what) in [
        (json!({"kind": "sometimes"}), "an unknown kind"),
        (json!({"kind": "always", "when": "now"}), "an unknown field"),
    ] {
        let r = c
            .post(app.url("/api/v1/reports/templates"))
            .json(&template("Bad", "executive", "7d", bad, &[]))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{what}: {}", r.status());
    }
    let mut page = template("Bad page", "executive", "7d", json!({"kind": "always"}), &[]);
    page["page"] = json!({"size": "a3", "orientation": "portrait"});
    let r = c.post(app.url("/api/v1/reports/templates")).json(&page).send().await.unwrap();
    assert!(r.status().is_client_error(), "a3 is not offered: {}", r.status());
    let n: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM report_templates").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(n, 0, "nothing was created");
});

db_test!(a_templates_page_setup_shapes_its_pdf_and_can_be_changed, |app| {
    let (_, c) = full_demo(&app).await;
    let mut body = template("Wide", "operations", "7d", json!({"kind": "always"}), &[]);
    body["page"] = json!({"size": "letter", "orientation": "landscape"});
    let tpl: Value =
        c.post(app.url("/api/v1/reports/templates")).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(tpl["page"], json!({"size": "letter", "orientation": "landscape"}));
    let id = tpl["id"].as_str().unwrap();
    let sizes = |pdf: &[u8]| -> Vec<(i64, i64)> {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        doc.get_pages()
            .values()
            .map(|id| {
                let mb = doc
                    .get_object(*id)
                    .unwrap()
                    .as_dict()
                    .unwrap()
                    .get(b"MediaBox")
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .clone();
                let n =
                    |o: &lopdf::Object| o.as_float().map(f64::from).or_else(|_| o.as_i64().map(|i| i as f64)).unwrap();
                ((n(&mb[2]) - n(&mb[0])).round() as i64, (n(&mb[3]) - n(&mb[1])).round() as i64)
            })
            .collect()
    };
    let pdf_of = |run: Value| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/reports/runs/{}/artifacts/pdf", run["id"].as_str().unwrap()));
        async move { c.get(url).send().await.unwrap().bytes().await.unwrap().to_vec() }
    };
    let run = run_now(&app, &c, id).await;
    assert!(sizes(&pdf_of(run).await).iter().all(|s| *s == (792, 612)), "every page is Letter landscape");
    let r = c
        .patch(app.url(&format!("/api/v1/reports/templates/{id}")))
        .json(&json!({"page": {"size": "a4", "orientation": "portrait"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let run = run_now(&app, &c, id).await;
    assert!(sizes(&pdf_of(run).await).iter().all(|s| *s == (595, 842)), "every page is A4 portrait");
});
