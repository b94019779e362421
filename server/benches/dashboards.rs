//! Dashboard benchmark: loads every dashboard (all widgets, as the page does) at the default
//! demo volume and at a large one, for every period, and prints p50/p95 per dashboard — warm
//! (past days from the rollup day cache, today re-read as under live ingest) and cold (the
//! day cache emptied before each load, as after a restart before the start-up warm-up has reached
//! it), and how long that warm-up takes.
//! Run with `make bench` (or `cargo bench -p server --bench dashboards`). `BENCH_SCALES` sets the
//! demo scales to measure (default `1,74`: ≈135 thousand and ≈10 million interactions).

use app::engine::sources::{self, Request};
use app::engine::{demo, store, Db};
use app::model::{Dashboard, Period};
use std::time::Instant;

const ITERATIONS: usize = 30;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let scales: Vec<f64> = std::env::var("BENCH_SCALES")
        .unwrap_or_else(|_| "1,74".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!("dashboard benchmark: {ITERATIONS} loads per dashboard and period, SQLite, release build");
    for scale in scales {
        let dir = tempfile::tempdir()?;
        let db = Db::connect(&format!("sqlite://{}/bench.db", dir.path().display())).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let t = store::tenants::create(&db, "bench", "Bench", now).await?;
        let started = Instant::now();
        let s = demo::load(&db, &t.id, demo::DEFAULT_SEED, scale, now).await?;
        println!(
            "\nscale {scale}: {} interactions, {} decisions loaded in {:.1} s",
            s.interactions,
            s.decisions,
            started.elapsed().as_secs_f64()
        );
        // After a restart the server warms every dashboard × period in the background: until
        // that is done a first load is cold (the cold columns), after it warm.
        db.day_cache.clear();
        let w = sources::warm(&db, now).await?;
        println!(
            "warm-up after a restart (NARRATE_WARM_DASHBOARDS, one load at a time): {} loads in {:.1} s",
            w.loads,
            w.ms as f64 / 1000.0
        );
        println!(
            "{:<14} {:>6} {:>10} {:>10} {:>14} {:>14}",
            "dashboard", "period", "p50 ms", "p95 ms", "cold p50 ms", "cold p95 ms"
        );
        for d in Dashboard::ALL {
            for p in [Period::D7, Period::D30, Period::D90] {
                let (mut warm, mut cold) = (Vec::with_capacity(ITERATIONS), Vec::with_capacity(ITERATIONS));
                for i in 0..2 * ITERATIONS {
                    let is_cold = i % 2 == 1;
                    if is_cold {
                        db.day_cache.clear();
                    } else {
                        // Live ingest touches today between two refreshes: today is always re-read.
                        sqlx::query("UPDATE rollup_days SET version = version + 1 WHERE tenant_id = $1 AND day = $2")
                            .bind(&t.id)
                            .bind(app::engine::rollups::day_of(now))
                            .execute(&db.pool)
                            .await?;
                    }
                    let req =
                        Request { key: d.key(), period: Some(p.key()), segment_id: None, params: Default::default() };
                    let t0 = Instant::now();
                    let data = sources::load(&db, &t.id, req, now).await?;
                    let ms = t0.elapsed().as_secs_f64() * 1000.0;
                    assert!(data.widgets.iter().all(|w| w.error.is_none()), "a widget failed");
                    if is_cold {
                        cold.push(ms);
                    } else if i > 0 {
                        warm.push(ms); // the first load fills the cache
                    }
                }
                warm.sort_by(f64::total_cmp);
                cold.sort_by(f64::total_cmp);
                println!(
                    "{:<14} {:>6} {:>10.2} {:>10.2} {:>14.2} {:>14.2}",
                    d.key(),
                    p.key(),
                    percentile(&warm, 0.5),
                    percentile(&warm, 0.95),
                    percentile(&cold, 0.5),
                    percentile(&cold, 0.95)
                );
            }
        }
    }
    Ok(())
}
