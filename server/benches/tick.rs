//! Tick benchmark: 1 000 schedules due at once (10 tenants × 100, the per-tenant cap), each
//! delivering one small CSV report to a local webhook sink. Two receivers: a fast one, and a slow
//! one that takes 1 s per delivery (with a 30 s run lease, so runs wait queued far longer than
//! the lease). Reports the time until every run has finished, the most deliveries the sink saw in
//! flight at once, and checks — against the sink's own log — zero duplicates and zero misses, and
//! that no run was declared abandoned while alive (a replica sweeps every two seconds).
//! Run with `make bench` (or `cargo bench -p server --bench tick`).

use app::engine::scheduler::{self, leases};
use app::engine::{store, templates, AppState, Clock, Config, Db};
use app::model::reports::{NarrativeSettings, ScheduleInput, TemplateInput};
use axum::routing::post;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TENANTS: usize = 10;
const PER_TENANT: usize = 100;

/// What the receiving side saw.
#[derive(Default)]
struct Sink {
    runs: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    most: AtomicUsize,
}

async fn sink(delay: Duration) -> anyhow::Result<(String, Arc<Sink>)> {
    let seen = Arc::new(Sink::default());
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                log.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                *log.runs.lock().unwrap().entry(v["runId"].as_str().unwrap_or_default().to_string()).or_default() += 1;
                log.in_flight.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, seen))
}

async fn scenario(label: &str, delay: Duration, max_concurrent: usize) -> anyhow::Result<()> {
    let (sink_url, seen) = sink(delay).await?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/tick.db", dir.path().display());
    let vars: HashMap<&str, String> = [
        ("DATABASE_URL", url.clone()),
        ("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1".into()),
        ("NARRATE_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
        ("NARRATE_RUN_LEASE_SECS", "30".into()),
        ("NARRATE_MAX_CONCURRENT_RUNS", max_concurrent.to_string()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|k| vars.get(k).cloned()).map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url).await?;
    let state = AppState::new(db, config.clone(), Clock::System, server::leptos_options(&config));
    for t in 0..TENANTS {
        let now = state.clock.now_ms();
        let tenant = store::tenants::create(&state.db, &format!("t{t}"), &format!("Tenant {t}"), now).await?;
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
    // Every slot due now.
    sqlx::query("UPDATE report_schedules SET next_run_at = $1")
        .bind(state.clock.now_ms() - 1000)
        .execute(&state.db.pool)
        .await?;
    let background = server::start_background(&state);
    let replica =
        AppState::new(Db::connect(&url).await?, config.clone(), Clock::System, server::leptos_options(&config));
    let abandoned = Arc::new(AtomicUsize::new(0));
    let counted = abandoned.clone();
    let sweeps = tokio::spawn(async move {
        loop {
            if let Ok(s) = leases::sweep(&replica).await {
                counted.fetch_add(s.abandoned as usize, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
    let started = Instant::now();
    let counts = scheduler::tick(&state).await?.counts;
    loop {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM report_runs WHERE status IN ('succeeded', 'partial', 'failed')")
            .fetch_one(&state.db.pool)
            .await?;
        if app::engine::db::get_i64(&r, "n") as usize >= TENANTS * PER_TENANT || started.elapsed().as_secs() > 1800 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    sweeps.abort();
    let second = scheduler::tick(&state).await?.counts;
    let runs = sqlx::query("SELECT id, status FROM report_runs").fetch_all(&state.db.pool).await?;
    let log = seen.runs.lock().unwrap().clone();
    let delivered: usize = log.values().sum();
    let duplicates = log.values().filter(|n| **n > 1).count();
    let misses = runs.iter().filter(|r| !log.contains_key(&app::engine::db::get_str(r, "id"))).count();
    let failed = runs.iter().filter(|r| app::engine::db::get_str(r, "status") != "succeeded").count();
    println!(
        "{label}: {} schedules due at once, {} ms per delivery, NARRATE_MAX_CONCURRENT_RUNS={max_concurrent}, lease 30 s, SQLite, release build",
        TENANTS * PER_TENANT,
        delay.as_millis()
    );
    println!(
        "  first tick: due {} claimed {} (answered after {} ms; the runs went on on the executor)",
        counts.due, counts.claimed, counts.duration_ms
    );
    println!(
        "  all runs finished in {elapsed:.1} s ({:.1} runs/s): {} runs, {delivered} deliveries, {duplicates} duplicates, {misses} misses, {failed} not succeeded",
        runs.len() as f64 / elapsed,
        runs.len()
    );
    println!(
        "  most deliveries in flight at the sink: {}; runs a replica declared abandoned while alive: {}",
        seen.most.load(Ordering::SeqCst),
        abandoned.load(Ordering::SeqCst)
    );
    println!("  second tick: due {} claimed {}", second.due, second.claimed);
    background.shutdown(&state, Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    app::engine::outbound::install_crypto();
    scenario("fast sink", Duration::ZERO, 8).await?;
    scenario("slow sink", Duration::from_secs(1), 8).await?;
    scenario("slow sink, more concurrency", Duration::from_secs(1), 32).await?;
    Ok(())
}
