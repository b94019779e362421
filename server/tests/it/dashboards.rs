//! The data sources against a small hand-made fixture, ingested through the public API. Every
//! expectation is computed in this file from the fixture rows themselves — never by the SQL under
//! test — so a wrong query cannot agree with itself.

use crate::common;

use app::model::Role;
use common::{TestApp, NOW};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn day_start(offset: i64) -> i64 {
    (NOW / DAY) * DAY + offset * DAY
}

fn ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One interaction of the fixture: (ms, customer, offer, channel, segment, outcome, value).
type Row = (i64, String, &'static str, &'static str, &'static str, &'static str, i64);

/// 35 days: offer o1 on web to segment s1 whose acceptance collapses in the last 7 days; offer
/// o2 on email to s2 at a steady 10 %; and one customer's three-touch path to a conversion.
fn fixture() -> Vec<Row> {
    let mut rows = Vec::new();
    for d in -34..=0 {
        let base = day_start(d) + 8 * 3_600_000;
        let clicks = if d > -7 {
            1
        } else if (d + 34) % 2 == 0 {
            4
        } else {
            6
        };
        for i in 0..40 {
            rows.push((base + i * 60_000, format!("a{d}{i}"), "o1", "web", "s1", "impression", 0));
        }
        for i in 0..clicks {
            rows.push((base + i * 60_000 + 30_000, format!("a{d}{i}"), "o1", "web", "s1", "click", 0));
        }
        for i in 0..20 {
            rows.push((base + i * 60_000, format!("b{d}{i}"), "o2", "email", "s2", "impression", 0));
        }
        for i in 0..2 {
            rows.push((base + i * 60_000 + 30_000, format!("b{d}{i}"), "o2", "email", "s2", "click", 0));
        }
    }
    rows.push((day_start(-3) + 9 * 3_600_000, "c1".into(), "o2", "email", "s1", "click", 0));
    rows.push((day_start(-1) + 9 * 3_600_000, "c1".into(), "o1", "web", "s1", "click", 0));
    rows.push((day_start(0) + 10 * 3_600_000, "c1".into(), "o1", "web", "s1", "conversion", 10_000));
    rows
}

async fn setup(app: &TestApp) -> reqwest::Client {
    let t = app.tenant("fixture").await;
    let c = app.client_as(&t, Role::Editor).await;
    for (k, n, size) in [("s1", "Segment One", 100), ("s2", "Segment Two", 50)] {
        let r =
            c.post(app.url("/api/v1/segments")).json(&json!({"key": k, "name": n, "size": size})).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    for (k, n) in [("web", "Web"), ("email", "Email")] {
        c.post(app.url("/api/v1/channels")).json(&json!({"key": k, "name": n})).send().await.unwrap();
    }
    for (k, n) in [("o1", "Offer One"), ("o2", "Offer Two")] {
        let body = json!({"key": k, "name": n, "category": "cards", "status": "active", "dailyBudgetCents": 10_000, "lifetimeBudgetCents": 1_000_000});
        assert_eq!(c.post(app.url("/api/v1/offers")).json(&body).send().await.unwrap().status(), 201);
    }
    let rows: Vec<Value> = fixture()
        .into_iter()
        .map(|(ms, cust, o, ch, s, out, v)| {
            let mut j =
                json!({"ts": ts(ms), "customerId": cust, "offer": o, "channel": ch, "segment": s, "outcome": out});
            if out == "conversion" {
                j["valueCents"] = json!(v);
            }
            j
        })
        .collect();
    let r = c.post(app.url("/api/v1/interactions")).json(&rows).send().await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let decisions = json!([
        {"ts": ts(day_start(-1)), "segment": "s1", "channel": "web", "latencyMs": 20.0, "funnel": [100, 50, 40, 10, 5], "degradedScoring": false, "selectedOffer": "o1"},
        {"ts": ts(day_start(0)), "segment": "s2", "channel": "email", "latencyMs": 40.0, "funnel": [100, 70, 60, 30, 15], "degradedScoring": true},
    ]);
    let r = c.post(app.url("/api/v1/decisions")).json(&decisions).send().await.unwrap();
    assert_eq!(r.status(), 202);
    c
}

async fn dashboard(app: &TestApp, c: &reqwest::Client, q: &str) -> Value {
    let r = c.get(app.url(&format!("/api/v1/dashboards/{q}"))).send().await.unwrap();
    assert_eq!(r.status(), 200, "{q}");
    r.json().await.unwrap()
}

fn table<'a>(d: &'a Value, source: &str) -> &'a Value {
    let w = d["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["source"] == source)
        .unwrap_or_else(|| panic!("no {source}"));
    assert!(w.get("error").is_none(), "{source} failed: {}", w["error"]);
    &w["table"]
}

fn col(t: &Value, key: &str) -> usize {
    t["columns"].as_array().unwrap().iter().position(|c| c["key"] == key).unwrap_or_else(|| panic!("no column {key}"))
}

fn row_by<'a>(t: &'a Value, key_col: &str, key: &str) -> &'a Vec<Value> {
    let k = col(t, key_col);
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[k] == key)
        .unwrap_or_else(|| panic!("no row {key}"))
        .as_array()
        .unwrap()
}

fn in_window(ms: i64, from: i64, to: i64) -> bool {
    ms >= day_start(from) && ms < day_start(to + 1)
}

fn count(rows: &[Row], from: i64, to: i64, f: impl Fn(&Row) -> bool) -> i64 {
    rows.iter().filter(|r| in_window(r.0, from, to) && f(r)).count() as i64
}

db_test!(business_kpis_match_the_fixture_with_delta_chips, |app| {
    let c = setup(&app).await;
    let d = dashboard(&app, &c, "business?period=7d").await;
    let t = table(&d, "business_kpis");
    let rows = fixture();
    let imp = |a, b| count(&rows, a, b, |r| r.5 == "impression") as f64;
    let conv = |a, b| count(&rows, a, b, |r| r.5 == "conversion") as f64;
    let (v, p, dl, chip) = (col(t, "value"), col(t, "previous"), col(t, "delta_pct"), col(t, "chip"));
    let r = row_by(t, "metric", "impressions");
    assert_eq!((r[v].as_f64().unwrap(), r[p].as_f64().unwrap()), (imp(-6, 0), imp(-13, -7)));
    assert_eq!(r[chip], "grey", "equal impressions: flat chip");
    let r = row_by(t, "metric", "conversions");
    assert_eq!((r[v].as_f64().unwrap(), r[p].as_f64().unwrap()), (conv(-6, 0), 0.0));
    assert_eq!((r[chip].as_str().unwrap(), r[dl].is_null()), ("blue", true), "no baseline: New");
    let r = row_by(t, "metric", "revenue");
    assert_eq!(r[v].as_f64().unwrap(), 100.0);
    let r = row_by(t, "metric", "conversion_rate");
    assert!((r[v].as_f64().unwrap() - (conv(-6, 0) / imp(-6, 0) * 100.0)).abs() < 0.01);
    assert_eq!(d["from"], "2026-11-24");
    assert_eq!(d["to"], "2026-11-30");
});

db_test!(acceptance_rate_is_positives_over_impressions_and_the_executive_chip_turns_red, |app| {
    let c = setup(&app).await;
    let rows = fixture();
    let d = dashboard(&app, &c, "operations?period=7d").await;
    let t = table(&d, "acceptance_by_offer");
    for (offer, name) in [("o1", "Offer One"), ("o2", "Offer Two")] {
        let imp = count(&rows, -6, 0, |r| r.2 == offer && r.5 == "impression");
        let pos = count(&rows, -6, 0, |r| r.2 == offer && (r.5 == "click" || r.5 == "conversion"));
        let r = row_by(t, "offer", name);
        assert_eq!(r[col(t, "impressions")].as_i64().unwrap(), imp);
        assert_eq!(r[col(t, "positive")].as_i64().unwrap(), pos);
        let expected = (pos as f64 / imp as f64 * 100.0 * 100.0).round() / 100.0;
        assert_eq!(r[col(t, "acceptance_rate")].as_f64().unwrap(), expected, "{name}");
    }
    let e = dashboard(&app, &c, "executive?period=7d").await;
    let k = table(&e, "kpi_summary");
    let r = row_by(k, "metric", "acceptance_rate");
    let rate = |a, b| {
        let pos = count(&rows, a, b, |r| r.5 == "click" || r.5 == "conversion") as f64;
        pos / count(&rows, a, b, |r| r.5 == "impression") as f64 * 100.0
    };
    let (cur, prev) = (rate(-6, 0), rate(-13, -7));
    assert!((r[col(k, "value")].as_f64().unwrap() - cur).abs() < 0.01);
    assert!((r[col(k, "previous")].as_f64().unwrap() - prev).abs() < 0.01);
    let delta = ((cur - prev) / prev * 100.0 * 10.0).round() / 10.0;
    assert!((r[col(k, "delta_pct")].as_f64().unwrap() - delta).abs() < 0.15);
    assert_eq!(r[col(k, "chip")], "red");
});

db_test!(anomalies_carry_the_z_score_and_severity_computed_from_daily_values, |app| {
    let c = setup(&app).await;
    let rows = fixture();
    let daily_rate = |d: i64| {
        let pos = count(&rows, d, d, |r| r.2 == "o1" && (r.5 == "click" || r.5 == "conversion")) as f64;
        pos / count(&rows, d, d, |r| r.2 == "o1" && r.5 == "impression") as f64 * 100.0
    };
    let base: Vec<f64> = (-34..=-7).map(daily_rate).collect();
    let cur: Vec<f64> = (-6..=0).map(daily_rate).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (bm, cm) = (mean(&base), mean(&cur));
    let sd = (base.iter().map(|x| (x - bm).powi(2)).sum::<f64>() / (base.len() - 1) as f64).sqrt();
    let z = (cm - bm) / (sd / (cur.len() as f64).sqrt());
    assert!(z < -4.0, "the fixture is built to be critical: z = {z}");
    let d = dashboard(&app, &c, "executive?period=7d").await;
    let t = table(&d, "anomalies");
    let r = row_by(t, "dimension", "offer: Offer One");
    assert_eq!(r[col(t, "severity")], "critical");
    assert!((r[col(t, "z_score")].as_f64().unwrap() - z).abs() < 0.01, "z {} vs {z}", r[col(t, "z_score")]);
    assert!((r[col(t, "delta_pct")].as_f64().unwrap() - (cm - bm) / bm * 100.0).abs() < 0.1);
    let flagged: Vec<&str> =
        t["rows"].as_array().unwrap().iter().map(|r| r[col(t, "dimension")].as_str().unwrap()).collect();
    assert!(!flagged.contains(&"offer: Offer Two"), "a steady offer is not an anomaly: {flagged:?}");
    let k = table(&d, "kpi_summary");
    let r = row_by(k, "metric", "anomalies");
    assert_eq!(r[col(k, "value")].as_f64().unwrap(), t["rows"].as_array().unwrap().len() as f64);
});

db_test!(attribution_credits_each_conversion_in_full_under_every_model, |app| {
    let c = setup(&app).await;
    let d = dashboard(&app, &c, "attribution?period=7d").await;
    let t = table(&d, "attribution_comparison");
    // c1's path: email click (3 days before), web click (1 day before), web conversion; $100.
    let decay = |days: f64| 0.5f64.powf(days / 7.0);
    let (we, ww, wc) = (decay(3.0 + 1.0 / 24.0), decay(1.0 + 1.0 / 24.0), 1.0);
    let email_decay = 100.0 * we / (we + ww + wc);
    let expected = [
        ("last_touch", 0.0, 100.0),
        ("first_touch", 100.0, 0.0),
        ("linear", 100.0 / 3.0, 200.0 / 3.0),
        ("time_decay", email_decay, 100.0 - email_decay),
        ("position_based", 40.0, 60.0),
    ];
    for (model, email, web) in expected {
        let e = row_by(t, "channel", "Email")[col(t, model)].as_f64().unwrap_or(0.0);
        let w = row_by(t, "channel", "Web")[col(t, model)].as_f64().unwrap_or(0.0);
        assert!((e - email).abs() < 0.01 && (w - web).abs() < 0.01, "{model}: email {e} web {w}");
        assert!((e + w - 100.0).abs() < 0.01, "{model}: credits sum to the conversion's value");
    }
    let d = dashboard(&app, &c, "attribution?period=7d&model=first_touch").await;
    let t = table(&d, "attribution_by_channel");
    assert!(t["title"].as_str().unwrap().contains("First touch"));
    assert_eq!(row_by(t, "name", "Email")[col(t, "share")].as_f64().unwrap(), 100.0);
});

db_test!(funnel_filter_rates_and_budget_burn_follow_their_definitions, |app| {
    let c = setup(&app).await;
    let d = dashboard(&app, &c, "operations?period=7d").await;
    let t = table(&d, "decision_pipeline");
    // Sums [200,120,100,40,20] over 2 decisions: cumulative share of initial dropped.
    let rates: Vec<f64> =
        t["rows"].as_array().unwrap().iter().map(|r| r[col(t, "filter_rate")].as_f64().unwrap()).collect();
    assert_eq!(rates, [0.0, 40.0, 50.0, 80.0, 90.0]);
    let flags: Vec<&str> = t["rows"].as_array().unwrap().iter().map(|r| r[col(t, "flag")].as_str().unwrap()).collect();
    assert_eq!(flags, ["", "", "", "", "flagged"], "only above 80 % is flagged");
    assert!(t["note"].as_str().unwrap().contains("last 7 day"));
    let b = dashboard(&app, &c, "business?period=7d").await;
    let f = table(&b, "funnel");
    let avgs: Vec<f64> =
        f["rows"].as_array().unwrap().iter().map(|r| r[col(f, "avg_candidates")].as_f64().unwrap()).collect();
    assert_eq!(avgs, [100.0, 60.0, 50.0, 20.0, 10.0]);
    let bb = table(&b, "budget_burn");
    let r = row_by(bb, "offer", "Offer One");
    // Spent: 5 % of the $100 conversion; first shown 34 days ago, so 35 elapsed days.
    assert_eq!(r[col(bb, "spent")].as_f64().unwrap(), 5.0);
    assert_eq!(r[col(bb, "remaining")].as_f64().unwrap(), 9_995.0);
    assert!((r[col(bb, "burn_rate")].as_f64().unwrap() - 5.0 / 35.0).abs() < 0.006);
    let days_left = r[col(bb, "days_left")].as_f64().unwrap();
    assert!((days_left - 9_995.0 / (5.0 / 35.0)).abs() < 1.0, "{days_left}");
});

db_test!(a_good_batch_updates_the_dashboards_and_a_batch_with_one_bad_row_is_refused_whole, |app| {
    let c = setup(&app).await;
    let before = dashboard(&app, &c, "business?period=today").await;
    let imp = |d: &Value| row_by(table(d, "business_kpis"), "metric", "impressions")[2].as_f64().unwrap();
    let n0 = imp(&before);
    let good = "{\"ts\":\"2026-11-30T11:00:00Z\",\"customerId\":\"x\",\"offer\":\"o1\",\"channel\":\"web\",\"segment\":\"s1\",\"outcome\":\"impression\"}\n\
                {\"ts\":\"2026-11-30T11:01:00Z\",\"customerId\":\"y\",\"offer\":\"o2\",\"channel\":\"email\",\"segment\":\"s2\",\"outcome\":\"impression\"}\n";
    let r = c
        .post(app.url("/api/v1/interactions"))
        .header("content-type", "application/x-ndjson")
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"accepted": 2}));
    assert_eq!(imp(&dashboard(&app, &c, "business?period=today").await), n0 + 2.0);
    let bad = json!([
        {"ts": "2026-11-30T11:00:00Z", "customerId": "x", "offer": "o1", "channel": "web", "segment": "s1", "outcome": "impression"},
        {"ts": "2026-11-30T11:00:00Z", "customerId": "x", "offer": "o1", "channel": "web", "segment": "s1", "outcome": "purchase"},
        {"ts": "2027-01-01T00:00:00Z", "customerId": "x", "offer": "nope", "channel": "web", "segment": "s1", "outcome": "conversion", "valueCents": -5},
    ]);
    let r = c.post(app.url("/api/v1/interactions")).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["rows[1].outcome", "rows[2].ts", "rows[2].offer", "rows[2].valueCents"]);
    assert_eq!(
        imp(&dashboard(&app, &c, "business?period=today").await),
        n0 + 2.0,
        "nothing of the refused batch was written"
    );
});

db_test!(another_tenants_catalogue_keys_and_segments_are_refused, |app| {
    let c = setup(&app).await;
    let other = app.tenant("other").await;
    let oc = app.client_as(&other, Role::Editor).await;
    let row = json!([{"ts": "2026-11-30T11:00:00Z", "customerId": "x", "offer": "o1", "channel": "web", "segment": "s1", "outcome": "impression"}]);
    let r = oc.post(app.url("/api/v1/interactions")).json(&row).send().await.unwrap();
    assert_eq!(r.status(), 422, "fixture's keys mean nothing to another tenant");
    let segs: Value = c.get(app.url("/api/v1/segments")).send().await.unwrap().json().await.unwrap();
    let sid = segs["data"][0]["id"].as_str().unwrap();
    let r = oc.get(app.url(&format!("/api/v1/dashboards/business?segmentId={sid}"))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c.get(app.url(&format!("/api/v1/dashboards/business?segmentId={sid}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bad = c.get(app.url("/api/v1/dashboards/sales")).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let bad = c.get(app.url("/api/v1/dashboards/business?period=2w")).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let v: Value = bad.json().await.unwrap();
    assert_eq!(v["error"]["details"][0]["field"], "period");
});

db_test!(the_segment_filter_narrows_business_numbers_to_that_segment, |app| {
    let c = setup(&app).await;
    let segs: Value = c.get(app.url("/api/v1/segments")).send().await.unwrap().json().await.unwrap();
    let s2 =
        segs["data"].as_array().unwrap().iter().find(|s| s["key"] == "s2").unwrap()["id"].as_str().unwrap().to_string();
    let d = dashboard(&app, &c, &format!("business?period=7d&segmentId={s2}")).await;
    let r = row_by(table(&d, "business_kpis"), "metric", "impressions");
    assert_eq!(r[2].as_f64().unwrap(), count(&fixture(), -6, 0, |r| r.4 == "s2" && r.5 == "impression") as f64);
    assert_eq!(d["segmentId"], s2);
});

db_test!(every_dashboard_loads_every_widget_on_demo_data, |app| {
    let t = app.tenant("demo").await;
    app::engine::demo::load(&app.state.db, &t.id, 7, 0.05, NOW).await.unwrap();
    let c = app.client_as(&t, Role::Viewer).await;
    for key in ["executive", "business", "operations", "model-health", "data-health", "attribution"] {
        for period in ["today", "7d", "90d"] {
            let d = dashboard(&app, &c, &format!("{key}?period={period}")).await;
            for w in d["widgets"].as_array().unwrap() {
                assert!(w.get("error").is_none(), "{key} {period} {}: {}", w["source"], w["error"]);
            }
        }
    }
    let d = dashboard(&app, &c, "data-health?period=7d").await;
    let r = row_by(table(&d, "connector_status"), "connector", "Braze email events");
    assert_eq!(r[2], "failing", "the injected failing connector shows");
});

db_test!(one_failing_widget_shows_its_own_error_and_the_rest_of_the_page_loads, |app| {
    let c = setup(&app).await;
    sqlx::query("DROP TABLE dlq_samples").execute(&app.state.db.pool).await.unwrap();
    let r = c.get(app.url("/api/v1/dashboards/operations?period=7d")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the dashboard still answers");
    let d: Value = r.json().await.unwrap();
    for w in d["widgets"].as_array().unwrap() {
        if w["source"] == "dlq_depth" {
            assert!(w["error"].as_str().unwrap().contains("could not be loaded"));
            assert!(!w["error"].as_str().unwrap().contains("dlq_samples"), "no internals leak");
        } else {
            assert!(w.get("error").is_none(), "{} failed too", w["source"]);
        }
    }
});

#[tokio::test]
async fn the_csv_import_command_loads_a_valid_file_and_refuses_a_file_with_a_bad_row() {
    let app = TestApp::start(common::Backend::Sqlite).await.unwrap();
    let c = setup(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "ts,customer_id,offer,channel,segment,outcome,value_cents\n\
         2026-11-29T09:00:00Z,z1,o1,web,s1,impression,\n\
         2026-11-29T09:05:00Z,z1,o1,web,s1,conversion,2500\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "ts,customer_id,offer,channel,segment,outcome,value_cents\n2026-11-30T09:00:00Z,z1,o1,web,s1,impression,\nnot-a-time,z2,o9,web,s1,impression,\n").unwrap();
    let db_url = app.state.config.database_url.clone();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_narrate"))
            .args(["import", "interactions", file.to_str().unwrap(), "--tenant", "fixture"])
            .env("DATABASE_URL", &db_url)
            .output()
            .unwrap()
    };
    let before = dashboard(&app, &c, "business?period=7d").await;
    let conv = |d: &Value| row_by(table(d, "business_kpis"), "metric", "conversions")[2].as_f64().unwrap();
    let out = run(&bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rows[1].ts") && err.contains("rows[1].offer"), "{err}");
    assert_eq!(conv(&dashboard(&app, &c, "business?period=7d").await), conv(&before));
    let out = run(&good);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(conv(&dashboard(&app, &c, "business?period=7d").await), conv(&before) + 1.0);
}

db_test!(late_data_written_through_another_server_shows_on_the_next_load, |app| {
    // Dashboards cache past days' rollup sums in process; a write anywhere (here: a second server
    // on the same database, as another replica or the CLI would be) must still show up at once.
    let c = setup(&app).await;
    let imp = |d: &Value| row_by(table(d, "business_kpis"), "metric", "impressions")[2].as_f64().unwrap();
    let before = imp(&dashboard(&app, &c, "business?period=7d").await);
    assert_eq!(imp(&dashboard(&app, &c, "business?period=7d").await), before, "a second load (from the cache) agrees");
    let other = app::engine::Db::connect(&app.state.config.database_url).await.unwrap();
    let tenant = app::engine::store::tenants::find_by_slug(&other, "fixture").await.unwrap().unwrap();
    let late: Vec<app::engine::ingest::InteractionRow> = serde_json::from_value(json!([
        // Three days ago: a day the first server has already cached.
        {"ts": "2026-11-27T09:00:00Z", "customerId": "late", "offer": "o1", "channel": "web", "segment": "s1", "outcome": "impression"},
        {"ts": "2026-11-27T09:05:00Z", "customerId": "late", "offer": "o2", "channel": "web", "segment": "s2", "outcome": "impression"},
        {"ts": "2026-11-27T09:06:00Z", "customerId": "late", "offer": "o2", "channel": "web", "segment": "s2", "outcome": "impression"},
    ]))
    .unwrap();
    app::engine::ingest::interactions(&other, &tenant.id, late, common::NOW).await.unwrap();
    assert_eq!(imp(&dashboard(&app, &c, "business?period=7d").await), before + 3.0);
    // The segment-filtered view (another cache entry) sees its share too.
    let seg = |d: &Value| {
        d["segments"].as_array().unwrap().iter().find(|s| s["name"] == "Segment Two").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let all = dashboard(&app, &c, "business?period=7d").await;
    let s2 = seg(&all);
    let filtered_before = imp(&dashboard(&app, &c, &format!("business?period=7d&segmentId={s2}")).await);
    let more: Vec<app::engine::ingest::InteractionRow> = serde_json::from_value(json!([
        {"ts": "2026-11-26T09:00:00Z", "customerId": "late", "offer": "o1", "channel": "web", "segment": "s2", "outcome": "impression"},
    ]))
    .unwrap();
    app::engine::ingest::interactions(&other, &tenant.id, more, common::NOW).await.unwrap();
    assert_eq!(imp(&dashboard(&app, &c, &format!("business?period=7d&segmentId={s2}")).await), filtered_before + 1.0);
});

db_test!(flow_run_kpis_dlq_depth_and_model_auc_match_values_computed_by_hand, |app| {
    let c = setup(&app).await;
    let db = &app.state.db.pool;
    let tenant: String =
        sqlx::Row::get(&sqlx::query("SELECT id FROM tenants WHERE slug = 'fixture'").fetch_one(db).await.unwrap(), 0);
    let today = NOW - NOW % DAY;
    // 20 flow runs over the last 7 days, latencies 10, 20, …, 200 ms; two of them failed.
    for i in 0..20i64 {
        let status = if i == 3 || i == 11 { "failed" } else { "completed" };
        sqlx::query("INSERT INTO flow_runs (tenant_id, ts, status, latency_ms) VALUES ($1, $2, $3, $4)")
            .bind(&tenant)
            .bind(today - (i % 7) * DAY + 3_600_000)
            .bind(status)
            .bind(((i + 1) * 10) as f64)
            .execute(db)
            .await
            .unwrap();
    }
    // DLQ: two samples yesterday (4 and 10), one today (3); one 8 days ago, outside 7d.
    for (ts, depth) in
        [(today - DAY + 1_000, 4i64), (today - DAY + 2_000, 10), (today + 1_000, 3), (today - 8 * DAY, 99)]
    {
        sqlx::query("INSERT INTO dlq_samples (tenant_id, ts, depth) VALUES ($1, $2, $3)")
            .bind(&tenant)
            .bind(ts)
            .bind(depth)
            .execute(db)
            .await
            .unwrap();
    }
    // A model evaluated 10 days ago (0.80), 3 days ago (0.75) and today (0.70).
    sqlx::query("INSERT INTO models (id, tenant_id, key, name, kind, created_at) VALUES ('m1', $1, 'p', 'Propensity', 'xgboost', 0)")
        .bind(&tenant)
        .execute(db)
        .await
        .unwrap();
    for (day, auc) in [(today - 10 * DAY, 0.80), (today - 3 * DAY, 0.75), (today, 0.70)] {
        sqlx::query(
            "INSERT INTO model_evaluations (tenant_id, model_id, day, auc, psi, ks) VALUES ($1, 'm1', $2, $3, 0, 0)",
        )
        .bind(&tenant)
        .bind(day)
        .bind(auc)
        .execute(db)
        .await
        .unwrap();
    }
    let ops = dashboard(&app, &c, "operations?period=7d").await;
    let k = table(&ops, "ops_kpis");
    let v = |m: &str| row_by(k, "metric", m)[2].as_f64();
    assert_eq!(v("total_runs"), Some(20.0));
    assert_eq!(v("avg_latency"), Some(105.0), "(10 + … + 200) / 20");
    assert_eq!(v("p95_latency"), Some(190.0), "nearest rank: the 19th of 20");
    assert_eq!(v("success_rate"), Some(90.0));
    let dlq = table(&ops, "dlq_depth");
    let yesterday = row_by(dlq, "day", "2026-11-29");
    assert_eq!((yesterday[1].as_i64(), yesterday[2].as_f64()), (Some(10), Some(7.0)));
    let today_row = row_by(dlq, "day", "2026-11-30");
    assert_eq!((today_row[1].as_i64(), today_row[2].as_f64()), (Some(3), Some(3.0)));
    assert_eq!(dlq["rows"].as_array().unwrap().len(), 7, "one row per day, empty days included");
    let exec = dashboard(&app, &c, "executive?period=7d").await;
    let kt = table(&exec, "kpi_summary");
    let auc = row_by(kt, "metric", "model_auc");
    assert_eq!(auc[col(kt, "value")].as_f64(), Some(0.70), "the latest evaluation");
    assert_eq!(auc[col(kt, "previous")].as_f64(), Some(0.80), "the latest before the period began");
    let spark: Vec<f64> = kt["sparklines"].as_array().unwrap().iter().find(|p| p[0] == "model_auc").unwrap()[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(spark, vec![0.80, 0.80, 0.80, 0.75, 0.75, 0.75, 0.70], "each day: the latest evaluation by its end");
});

#[tokio::test]
async fn the_server_warms_every_dashboard_at_start_up_so_a_first_load_reads_no_past_day_from_the_database() {
    use app::engine::sources::{self, Request};
    use app::model::{Dashboard, Period};
    // The demo tenant is loaded before the server starts, as `narrate serve` does on a fresh database.
    let app = TestApp::start_with(common::Backend::Sqlite, &[("NARRATE_DEMO", "1")]).await.unwrap();
    let cache = &app.state.db.day_cache;
    for _ in 0..600 {
        if cache.warmups() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(cache.warmups(), 1, "the warm-up ran once at start-up");
    let cached = cache.len();
    assert!(cached > 0, "the warm-up filled the day cache");
    let tenant = app::engine::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap();
    for dashboard in Dashboard::ALL {
        for period in Period::ALL {
            let req = Request {
                key: dashboard.key(),
                period: Some(period.key()),
                segment_id: None,
                params: Default::default(),
            };
            let data = sources::load(&app.state.db, &tenant.id, req, app.state.clock.now_ms()).await.unwrap();
            assert!(data.widgets.iter().all(|w| w.error.is_none()), "{} {} loads", dashboard.key(), period.key());
            assert_eq!(
                cache.len(),
                cached,
                "{} {}: every past day of the window (and of its comparison window) was already cached",
                dashboard.key(),
                period.key()
            );
        }
    }
}
