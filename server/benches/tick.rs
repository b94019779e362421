//! Tick benchmark: 1 000 schedules due at once (10 tenants × 100, the per-tenant cap), each
//! delivering one small CSV report to a local webhook sink. Reports the time until every run has
//! finished, and checks zero duplicates and zero misses against the sink's log.
//! Run with `make bench` (or `cargo bench -p server --bench tick`).

use app::engine::{scheduler, store, templates, AppState, Clock, Config, Db};
use app::model::reports::{NarrativeSettings, ScheduleInput, TemplateInput};
use axum::routing::post;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const TENANTS: usize = 10;
const PER_TENANT: usize = 100;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    app::engine::outbound::install_crypto();
    let log: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let sink_log = log.clone();
    let sink = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let log = sink_log.clone();
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                *log.lock().unwrap().entry(v["runId"].as_str().unwrap_or_default().to_string()).or_default() += 1;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sink_url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, sink).await });

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/tick.db", dir.path().display());
    let vars: HashMap<&str, String> = [
        ("DATABASE_URL", url.clone()),
        ("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1".into()),
        ("NARRATE_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|k| vars.get(k).cloned()).map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url).await?;
    let start_ms = 1_796_040_000_000; // 2026-11-30 12:00 UTC
    let clock = Clock::manual(start_ms);
    let state = AppState::new(db, config.clone(), clock.clone(), server::leptos_options(&config));
    for t in 0..TENANTS {
        let tenant = store::tenants::create(&state.db, &format!("t{t}"), &format!("Tenant {t}"), start_ms).await?;
        let dest = app::engine::destinations::create(
            &state,
            &tenant.id,
            "bench",
            serde_json::from_value(
                serde_json::json!({"kind": "webhook", "name": "Sink", "config": {"url": sink_url}}),
            )?,
        )
        .await?;
        for i in 0..PER_TENANT {
            let input = TemplateInput {
                name: Some(format!("Report {i}")),
                dashboard: Some("business".into()),
                formats: Some(vec!["csv".into()]),
                narrative: Some(NarrativeSettings { enabled: false, prompt: None }),
                schedule: Some(ScheduleInput {
                    cron_expression: Some("0 8 * * *".into()),
                    destinations: Some(vec![dest.id.clone()]),
                    ..Default::default()
                }),
                ..Default::default()
            };
            templates::create(&state, &tenant.id, "bench", input).await?;
        }
    }
    clock.advance(20 * 3_600_000 + 60_000); // 2026-12-01 08:01 UTC: all 1 000 due
    let started = Instant::now();
    let _keeper = server::start_background(&state);
    let counts = scheduler::tick(&state).await?.counts;
    loop {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM report_runs WHERE status IN ('succeeded', 'partial', 'failed')")
            .fetch_one(&state.db.pool)
            .await?;
        if app::engine::db::get_i64(&r, "n") as usize >= TENANTS * PER_TENANT || started.elapsed().as_secs() > 600 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let second = scheduler::tick(&state).await?.counts;
    let runs = sqlx::query("SELECT id, status FROM report_runs").fetch_all(&state.db.pool).await?;
    let log = log.lock().unwrap().clone();
    let delivered: usize = log.values().sum();
    let duplicates = log.values().filter(|n| **n > 1).count();
    let misses = runs.iter().filter(|r| !log.contains_key(&app::engine::db::get_str(r, "id"))).count();
    let failed = runs.iter().filter(|r| app::engine::db::get_str(r, "status") != "succeeded").count();
    println!(
        "tick benchmark: {} schedules due at once, {} runs in flight at most, SQLite, release build",
        TENANTS * PER_TENANT,
        state.executor.max()
    );
    println!(
        "first tick: due {} claimed {} (answered after {} ms; the rest finished in the background)",
        counts.due, counts.claimed, counts.duration_ms
    );
    println!("all runs finished in {elapsed:.1} s: {} runs, {delivered} deliveries, {duplicates} duplicates, {misses} misses, {failed} not succeeded", runs.len());
    println!("second tick: due {} claimed {}", second.due, second.claimed);
    Ok(())
}
