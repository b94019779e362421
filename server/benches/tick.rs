//! Tick benchmark: 1 000 schedules due at once (10 tenants × 100, the per-tenant cap), each
//! delivering one small CSV report to a local webhook sink. Two receivers: a fast one, and a slow
//! one that takes 1 s per delivery (with a 30 s run lease, so runs wait queued far longer than
//! the lease). Reports the time until every run has finished, the most deliveries the sink saw in
//! flight at once, and checks — against the sink's own log — zero duplicates and zero misses, and
//! that no run was declared abandoned while alive (a replica sweeps every two seconds).
//!
//! Then, when `BENCH_DATABASE_URL` names a PostgreSQL server (`make bench` starts a throwaway
//! one), the Monday 08:00 burst across processes: 1 000, 10 000 and 100 000 schedules
//! (`BENCH_BURST_SIZES`) due in the same minute on a fresh database, three `narrate serve`
//! processes (the release binary, `NARRATE_BIN`) each sent `POST /api/cron/tick` at the same
//! moment, one small CSV report and one webhook delivery per schedule to the local sink. Reports
//! the time until the sink had every run, runs/s per process, and — from the sink's own log —
//! duplicates and misses.
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

/// The application state of a bench on the database at `url`: private destinations allowed (the
/// sink is local), a fixed secret key, and `extra` configuration.
async fn bench_state(url: &str, extra: &[(&str, String)]) -> anyhow::Result<AppState> {
    let mut vars: HashMap<&str, String> = [
        ("DATABASE_URL", url.to_string()),
        ("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1".into()),
        ("NARRATE_SECRET_KEY", SECRET_KEY.into()),
    ]
    .into_iter()
    .collect();
    vars.extend(extra.iter().cloned());
    let config = Config::from_lookup(|k| vars.get(k).cloned()).map_err(anyhow::Error::msg)?;
    Ok(AppState::new(Db::connect(url).await?, config.clone(), Clock::System, server::leptos_options(&config)))
}

/// Tenant number `t` with a webhook to the sink and `reports` small daily CSV reports to it.
async fn tenant_with_reports(state: &AppState, t: usize, sink_url: &str, reports: usize) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let tenant = store::tenants::create(&state.db, &format!("t{t}"), &format!("Tenant {t}"), now).await?;
    let dest = app::engine::destinations::create(
        state,
        &tenant.id,
        "bench",
        serde_json::from_value(serde_json::json!({"kind": "webhook", "name": "Sink", "config": {"url": sink_url}}))?,
    )
    .await?;
    for i in 0..reports {
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
        templates::create(state, &tenant.id, "bench", input).await?;
    }
    Ok(())
}

async fn scenario(label: &str, delay: Duration, max_concurrent: usize) -> anyhow::Result<()> {
    let (sink_url, seen) = sink(delay).await?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/tick.db", dir.path().display());
    let state = bench_state(
        &url,
        &[("NARRATE_RUN_LEASE_SECS", "30".into()), ("NARRATE_MAX_CONCURRENT_RUNS", max_concurrent.to_string())],
    )
    .await?;
    let config = (*state.config).clone();
    for t in 0..TENANTS {
        tenant_with_reports(&state, t, &sink_url, PER_TENANT).await?;
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

const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const PROCESSES: usize = 3;

/// The burst across three server processes on PostgreSQL (see the module's documentation).
async fn burst(admin_url: &str, schedules: usize) -> anyhow::Result<()> {
    let (sink_url, seen) = sink(Duration::ZERO).await?;
    // A fresh database next to the one named.
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(admin_url).await?;
    sqlx::query("DROP DATABASE IF EXISTS narrate_burst WITH (FORCE)").execute(&admin).await?;
    sqlx::query("CREATE DATABASE narrate_burst").execute(&admin).await?;
    admin.close().await;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let url = format!("{}/narrate_burst", &base[..base.rfind('/').unwrap_or(base.len())]);
    let state = bench_state(&url, &[]).await?;

    // One tenant per 100 schedules (the per-tenant cap), each with its webhook and one report
    // made through the engine; the other 99 of the tenant are copies made in SQL.
    let seeding = Instant::now();
    let tenants = schedules.div_ceil(PER_TENANT);
    for t in 0..tenants {
        tenant_with_reports(&state, t, &sink_url, 1).await?;
    }
    let copies = (PER_TENANT - 1) as i64;
    for (table, renamed) in [("report_templates", vec!["id"]), ("report_schedules", vec!["id", "template_id"])] {
        let cols: Vec<String> = sqlx::query(
            "SELECT column_name::text AS column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| app::engine::db::get_str(r, "column_name"))
        .collect();
        let select: Vec<String> = cols
            .iter()
            .map(|c| if renamed.contains(&c.as_str()) { format!("{c} || '-' || g") } else { c.clone() })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {table} CROSS JOIN generate_series(1, $1::bigint) AS g",
            cols.join(", "),
            select.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(copies).execute(&state.db.pool).await?;
    }
    // Exactly `schedules` of them, every slot due now.
    sqlx::query("DELETE FROM report_schedules WHERE id IN (SELECT id FROM report_schedules ORDER BY id OFFSET $1)")
        .bind(schedules as i64)
        .execute(&state.db.pool)
        .await?;
    sqlx::query("UPDATE report_schedules SET next_run_at = $1")
        .bind(state.clock.now_ms() - 1000)
        .execute(&state.db.pool)
        .await?;
    sqlx::query("ANALYZE").execute(&state.db.pool).await?;
    let seeded = seeding.elapsed().as_secs_f64();

    // Three server processes on the database.
    let bin = std::env::var("NARRATE_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/narrate")
    });
    let logs = tempfile::tempdir()?;
    let mut procs = Vec::new();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(1800)).build()?;
    for p in 0..PROCESSES {
        let port = 3310 + p;
        let log = std::fs::File::create(logs.path().join(format!("narrate-{p}.log")))?;
        let child = tokio::process::Command::new(&bin)
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("NARRATE_SCHEDULER", "external")
            .env("CRON_TOKEN", "burst")
            .env("NARRATE_SECRET_KEY", SECRET_KEY)
            .env("NARRATE_ALLOW_PRIVATE_DESTINATIONS", "1")
            .env("NARRATE_WARM_DASHBOARDS", "0")
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        procs.push((port, child));
    }
    for (port, _) in &procs {
        let until = Instant::now() + Duration::from_secs(60);
        while client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_err() {
            anyhow::ensure!(Instant::now() < until, "narrate on port {port} did not start (logs in {:?})", logs.keep());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // The minute comes: every process is told to tick at the same moment.
    let started = Instant::now();
    let ticks: Vec<_> = procs
        .iter()
        .map(|(port, _)| {
            let (client, url) = (client.clone(), format!("http://127.0.0.1:{port}/api/cron/tick"));
            tokio::spawn(async move {
                let r = client.post(url).header("x-cron-token", "burst").send().await?;
                anyhow::ensure!(r.status().is_success(), "tick answered {}", r.status());
                Ok::<_, anyhow::Error>((r.json::<serde_json::Value>().await?, started.elapsed()))
            })
        })
        .collect();
    let mut answered = Vec::new();
    for t in ticks {
        answered.push(t.await??);
    }
    let limit = Duration::from_secs(1800);
    loop {
        let got = seen.runs.lock().unwrap().len();
        if got >= schedules || started.elapsed() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_delivered = started.elapsed().as_secs_f64();
    // The last runs record their outcome just after the sink has them.
    let until = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let runs = sqlx::query("SELECT id, status, owner FROM report_runs").fetch_all(&state.db.pool).await?;
        let open =
            runs.iter().filter(|r| matches!(app::engine::db::get_str(r, "status").as_str(), "queued" | "running"));
        if open.count() == 0 || Instant::now() > until {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (_, mut child) in procs {
        let _ = child.kill().await;
    }
    let log = seen.runs.lock().unwrap().clone();
    let delivered: usize = log.values().sum();
    let duplicates = log.values().filter(|n| **n > 1).count();
    let misses = runs.iter().filter(|r| !log.contains_key(&app::engine::db::get_str(r, "id"))).count()
        + schedules.saturating_sub(runs.len());
    let failed = runs.iter().filter(|r| app::engine::db::get_str(r, "status") != "succeeded").count();
    let mut per_owner: HashMap<String, usize> = HashMap::new();
    for r in &runs {
        *per_owner.entry(app::engine::db::get_str(r, "owner")).or_default() += 1;
    }
    let mut shares: Vec<usize> = per_owner.values().copied().collect();
    shares.sort_unstable_by(|a, b| b.cmp(a));
    println!(
        "burst: {schedules} schedules due at once ({tenants} tenants), {PROCESSES} processes, PostgreSQL, instant sink, release build (seeded in {seeded:.1} s)"
    );
    for (i, (counts, at)) in answered.iter().enumerate() {
        println!(
            "  process {i}: tick answered after {:.1} s: due {} claimed {} skipped {} errors {}",
            at.as_secs_f64(),
            counts["due"],
            counts["claimed"],
            counts["skipped"],
            counts["errors"]
        );
    }
    println!(
        "  the sink had every run after {all_delivered:.1} s ({:.1} runs/s in all; per process {}): {} runs, {delivered} deliveries, {duplicates} duplicates, {misses} misses, {failed} not succeeded",
        runs.len() as f64 / all_delivered,
        shares.iter().map(|n| format!("{n} runs = {:.1}/s", *n as f64 / all_delivered)).collect::<Vec<_>>().join(", "),
        runs.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    app::engine::outbound::install_crypto();
    if std::env::var("BENCH_BURST_ONLY").is_err() {
        scenario("fast sink", Duration::ZERO, 8).await?;
        scenario("slow sink", Duration::from_secs(1), 8).await?;
        scenario("slow sink, more concurrency", Duration::from_secs(1), 32).await?;
    }
    if let Ok(url) = std::env::var("BENCH_DATABASE_URL") {
        let sizes = std::env::var("BENCH_BURST_SIZES").unwrap_or_else(|_| "1000,10000,100000".into());
        for n in sizes.split(',').filter_map(|n| n.trim().parse().ok()) {
            burst(&url, n).await?;
        }
    } else {
        println!("burst across processes: not run (BENCH_DATABASE_URL names no PostgreSQL server)");
    }
    Ok(())
}
