//! Render benchmark: the Executive report (30 days, demo data, built-in narrative) in every
//! format; PDF against headless Chromium's `--print-to-pdf` of our own HTML artifact; and memory
//! over 1 000 PDF renders with changing data (typst's cache is evicted after each render).
//! Run with `make bench` (or `cargo bench -p server --bench render`).

use app::engine::render::{self, ReportFormat};
use app::engine::report::{self, Options};
use app::engine::sources::Request;
use app::engine::{demo, store, AppState, Clock, Config, Db};
use app::model::Cell;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let config = Config::from_lookup(|k| if k == "DATABASE_URL" { Some(url.clone()) } else { None })
        .map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let t = store::tenants::create(&db, "bench", "Bench", now).await?;
    demo::load(&db, &t.id, demo::DEFAULT_SEED, 1.0, now).await?;
    let state = AppState::new(
        db,
        config,
        Clock::System,
        server::leptos_options(&Config::from_lookup(|_| None).map_err(anyhow::Error::msg)?),
    );
    let req = Request { key: "executive", period: Some("30d"), segment_id: None, params: Default::default() };
    let report =
        report::assemble(&state, &t.id, "Bench", req, &Options { narrative: true, ..Default::default() }).await?;
    println!("render benchmark: Executive report, 30 days, {} sections, release build", report.sections.len());
    let mut pdf_median = 0.0;
    for format in ReportFormat::ALL {
        let _ = render::render(&report, format)?; // warm-up
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..50 {
            let t0 = Instant::now();
            size = render::render(&report, format)?.len();
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        let m = median(times);
        if format == ReportFormat::Pdf {
            pdf_median = m;
        }
        println!("{:<5} median {:>8.2} ms   {:>8} bytes", format.extension(), m, size);
    }
    let html = render::render(&report, ReportFormat::Html)?;
    let html_path = dir.path().join("report.html");
    std::fs::write(&html_path, html)?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if std::path::Path::new(&chromium).exists() {
        let mut times = Vec::new();
        for i in 0..5 {
            let out = dir.path().join(format!("chromium-{i}.pdf"));
            let t0 = Instant::now();
            let status = std::process::Command::new(&chromium)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--no-pdf-header-footer",
                ])
                .arg(format!("--user-data-dir={}", dir.path().join(format!("profile-{i}")).display()))
                .arg(format!("--print-to-pdf={}", out.display()))
                .arg(format!("file://{}", html_path.display()))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()?;
            if status.success() && out.exists() {
                times.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if !times.is_empty() {
            let c = median(times);
            println!(
                "chromium --print-to-pdf of the same HTML: median {c:.1} ms → typst is {:.0}× faster",
                c / pdf_median
            );
        }
    } else {
        println!("chromium not found at {chromium}: comparison skipped");
    }
    let mut r = report.clone();
    let before = rss_mib();
    for i in 0..1000 {
        if let Some(cell) = r
            .sections
            .iter_mut()
            .flat_map(|t| t.rows.iter_mut())
            .flat_map(|row| row.iter_mut())
            .find(|c| matches!(c, Cell::Num(_) | Cell::Int(_)))
        {
            *cell = Cell::Num(i as f64 * 1.37);
        }
        r.generated_at = format!("2026-11-30T12:{:02}:{:02}Z", (i / 60) % 60, i % 60);
        render::render(&r, ReportFormat::Pdf)?;
        if i == 99 {
            println!("RSS after 100 PDF renders with changing data: {:.0} MiB (start {before:.0} MiB)", rss_mib());
        }
    }
    println!("RSS after 1000 PDF renders with changing data: {:.0} MiB", rss_mib());
    Ok(())
}
