//! Operations dashboard sources: flow-run KPIs, latency distribution and trend, acceptance by
//! offer, the decision pipeline (window capped at 7 days), circuit breakers and DLQ depth.

use super::business::STAGES;
use super::common::{
    decisions, interactions, iso_day, iso_instant, latency_histogram, names, quantile, ratio_pct, round, By, Ctx,
    Window,
};
use crate::engine::db::{get_f64, get_i64, get_str};
use crate::engine::rollups::{bucket_value, DAY_MS};
use crate::model::{AppError, Cell, Chart, ChartKind, Column, ColumnKind, Table};
use std::collections::BTreeMap;

/// `ops_kpis`: decision-flow batch runs — total, average and P95 latency, success rate.
pub async fn ops_kpis(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    // Aggregated in the database: the runs themselves never cross the wire.
    let totals = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(SUM(latency_ms) AS DOUBLE PRECISION) AS lat, \
         SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed, \
         SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed \
         FROM flow_runs WHERE tenant_id = $1 AND ts >= $2 AND ts < $3",
    )
    .bind(ctx.tenant_id)
    .bind(w.start)
    .bind(w.end)
    .fetch_one(&ctx.db.pool)
    .await?;
    let n = get_i64(&totals, "n");
    let (completed, failed) = (get_i64(&totals, "completed"), get_i64(&totals, "failed"));
    let avg = (n > 0).then(|| get_f64(&totals, "lat") / n as f64);
    // The nearest-rank P95: the ⌈0.95·n⌉-th smallest latency.
    let p95 = if n > 0 {
        let rank = ((0.95 * n as f64).ceil() as i64).clamp(1, n);
        let r = sqlx::query(
            "SELECT latency_ms FROM flow_runs WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 \
             ORDER BY latency_ms LIMIT 1 OFFSET $4",
        )
        .bind(ctx.tenant_id)
        .bind(w.start)
        .bind(w.end)
        .bind(rank - 1)
        .fetch_optional(&ctx.db.pool)
        .await?;
        r.map(|r| get_f64(&r, "latency_ms"))
    } else {
        None
    };
    let mut t = Table::new(
        "ops_kpis",
        "Decision-flow runs",
        vec![
            Column::internal("metric", ColumnKind::Text),
            Column::new("label", "Metric", ColumnKind::Text),
            Column::new("value", "Value", ColumnKind::Number),
            Column::internal("format", ColumnKind::Text),
        ],
    );
    let mut push = |k: &str, l: &str, v: Option<f64>, f: &str| {
        t.push(vec![Cell::from(k), Cell::from(l), Cell::from(v), Cell::from(f)])
    };
    push("total_runs", "Total runs", Some(n as f64), "integer");
    push("avg_latency", "Avg latency", avg.map(|v| round(v, 1)), "duration");
    push("p95_latency", "P95 latency", p95, "duration");
    push("success_rate", "Success rate", ratio_pct(completed, completed + failed).map(|v| round(v, 2)), "percent");
    Ok(t)
}

/// Display bins of the latency distribution (upper bounds in ms).
const BINS: [f64; 10] = [10.0, 20.0, 30.0, 40.0, 50.0, 75.0, 100.0, 150.0, 250.0, f64::INFINITY];

/// `latency_distribution`: decisions per latency bin over the period.
pub async fn latency_distribution(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let per_day = latency_histogram(ctx, ctx.window()).await?;
    let mut counts = [0i64; BINS.len()];
    for hist in per_day.values() {
        for (b, n) in hist {
            let v = bucket_value(*b);
            let i = BINS.iter().position(|up| v < *up).unwrap_or(BINS.len() - 1);
            counts[i] += n;
        }
    }
    let mut t = Table::new(
        "latency_distribution",
        "Decision latency distribution",
        vec![
            Column::new("bin", "Latency", ColumnKind::Text),
            Column::new("decisions", "Decisions", ColumnKind::Integer),
        ],
    );
    let mut lower = 0.0;
    for (up, n) in BINS.iter().zip(counts) {
        let label = if up.is_finite() { format!("{lower:.0}–{up:.0} ms") } else { format!("≥ {lower:.0} ms") };
        t.push(vec![Cell::from(label), Cell::from(n)]);
        lower = *up;
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "bin", &["decisions"]));
    Ok(t)
}

/// `latency_trend`: P50 and P99 decision latency per day.
pub async fn latency_trend(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let per_day = latency_histogram(ctx, w).await?;
    let mut t = Table::new(
        "latency_trend",
        "Latency trend",
        vec![
            Column::new("day", "Day", ColumnKind::Date),
            Column::new("p50", "P50", ColumnKind::Duration),
            Column::new("p99", "P99", ColumnKind::Duration),
        ],
    );
    for d in w.day_starts() {
        let h = per_day.get(&d).cloned().unwrap_or_default();
        t.push(vec![Cell::from(iso_day(d)), Cell::from(quantile(&h, 0.5)), Cell::from(quantile(&h, 0.99))]);
    }
    t.chart = Some(Chart::new(ChartKind::Line, "day", &["p50", "p99"]));
    Ok(t)
}

/// `acceptance_by_offer`: impressions, positive, negative and acceptance rate per offer.
pub async fn acceptance_by_offer(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let rows = interactions(ctx, ctx.window(), By::Offer).await?;
    let names = names(ctx, "offers").await?;
    let mut list: Vec<_> = rows
        .into_iter()
        .filter(|(_, a)| a.impressions > 0)
        .map(|(id, a)| (names.get(&id).cloned().unwrap_or(id), a))
        .collect();
    list.sort_by(|a, b| b.1.impressions.cmp(&a.1.impressions).then_with(|| a.0.cmp(&b.0)));
    let mut t = Table::new(
        "acceptance_by_offer",
        "Acceptance rate by offer",
        vec![
            Column::new("offer", "Offer", ColumnKind::Text),
            Column::new("impressions", "Impressions", ColumnKind::Integer),
            Column::new("positive", "Positive", ColumnKind::Integer),
            Column::new("negative", "Negative", ColumnKind::Integer),
            Column::new("acceptance_rate", "Acceptance rate", ColumnKind::Percent),
        ],
    );
    for (name, a) in list {
        t.push(vec![
            Cell::from(name),
            Cell::from(a.impressions),
            Cell::from(a.positives()),
            Cell::from(a.negatives()),
            Cell::from(a.acceptance_pct().map(|r| round(r, 2))),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "offer", &["acceptance_rate"]));
    Ok(t)
}

/// The decision pipeline never looks back further than this many days.
pub const PIPELINE_MAX_DAYS: i64 = 7;

/// A pipeline stage that has filtered more than this share of candidates (percent) is flagged.
pub const FLAG_ABOVE_PCT: f64 = 80.0;

/// `decision_pipeline`: latency percentiles, average candidates per stage and the cumulative
/// filter rate (share of initial candidates dropped so far; above [`FLAG_ABOVE_PCT`] is flagged).
pub async fn decision_pipeline(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let full = ctx.window();
    let w = Window { start: full.start.max(full.end - PIPELINE_MAX_DAYS * DAY_MS), end: full.end };
    let total = decisions(ctx, w, false).await?.into_values().next().unwrap_or_default();
    let mut merged: BTreeMap<i64, i64> = BTreeMap::new();
    for h in latency_histogram(ctx, w).await?.into_values() {
        for (b, n) in h {
            *merged.entry(b).or_default() += n;
        }
    }
    let mut t = Table::new(
        "decision_pipeline",
        "Decision pipeline",
        vec![
            Column::new("stage", "Stage", ColumnKind::Text),
            Column::new("avg_candidates", "Avg candidates", ColumnKind::Number),
            Column::new("filter_rate", "Filtered so far", ColumnKind::Percent),
            Column::new("flag", "Flag", ColumnKind::Text),
        ],
    );
    if total.decisions > 0 {
        for (i, stage) in STAGES.iter().enumerate() {
            let avg = total.funnel[i] as f64 / total.decisions as f64;
            let rate = ratio_pct(total.funnel[0] - total.funnel[i], total.funnel[0]).unwrap_or(0.0);
            let flag = if rate > FLAG_ABOVE_PCT { "flagged" } else { "" };
            t.push(vec![Cell::from(*stage), Cell::from(round(avg, 2)), Cell::from(round(rate, 1)), Cell::from(flag)]);
        }
    }
    let fmt = |q: f64| quantile(&merged, q).map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "—".into());
    t.note = Some(format!(
        "Window: last {} day(s){}; duration P50 {}, P95 {}, P99 {}; {} decisions; a stage filtering more than {FLAG_ABOVE_PCT} % of candidates is flagged",
        w.days(),
        if w.days() < full.days() { " (capped at 7)" } else { "" },
        fmt(0.5),
        fmt(0.95),
        fmt(0.99),
        total.decisions
    ));
    t.chart = Some(Chart::new(ChartKind::Bar, "stage", &["filter_rate"]));
    Ok(t)
}

/// `breaker_states`: each circuit breaker's current state, last change and openings in the period.
pub async fn breaker_states(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let rows = sqlx::query(
        "SELECT breaker, state, ts FROM breaker_events WHERE tenant_id = $1 AND ts < $2 ORDER BY breaker, ts",
    )
    .bind(ctx.tenant_id)
    .bind(w.end)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut latest: BTreeMap<String, (String, i64, i64)> = BTreeMap::new();
    for r in &rows {
        let (b, st, ts) = (get_str(r, "breaker"), get_str(r, "state"), get_i64(r, "ts"));
        let e = latest.entry(b).or_insert((String::new(), 0, 0));
        if st == "open" && ts >= w.start {
            e.2 += 1;
        }
        e.0 = st;
        e.1 = ts;
    }
    let mut t = Table::new(
        "breaker_states",
        "Circuit breakers",
        vec![
            Column::new("breaker", "Breaker", ColumnKind::Text),
            Column::new("state", "State", ColumnKind::Text),
            Column::new("since", "Since", ColumnKind::Timestamp),
            Column::new("opens", "Opened in period", ColumnKind::Integer),
        ],
    );
    for (b, (st, ts, opens)) in latest {
        t.push(vec![Cell::from(b), Cell::from(st), Cell::from(iso_instant(ts)), Cell::from(opens)]);
    }
    Ok(t)
}

/// `dlq_depth`: the dead-letter queue's maximum and average depth per day.
pub async fn dlq_depth(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    // Per day in the database (instants are ≥ 0, so integer division floors to the UTC day).
    let rows = sqlx::query(
        "SELECT ts / 86400000 AS d, MAX(depth) AS max_depth, CAST(SUM(depth) AS BIGINT) AS sum_depth, \
         COUNT(*) AS n FROM dlq_samples WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 GROUP BY ts / 86400000",
    )
    .bind(ctx.tenant_id)
    .bind(w.start)
    .bind(w.end)
    .fetch_all(&ctx.db.pool)
    .await?;
    let per: BTreeMap<i64, (i64, i64, i64)> = rows
        .iter()
        .map(|r| (get_i64(r, "d") * DAY_MS, (get_i64(r, "max_depth"), get_i64(r, "sum_depth"), get_i64(r, "n"))))
        .collect();
    let mut t = Table::new(
        "dlq_depth",
        "DLQ depth",
        vec![
            Column::new("day", "Day", ColumnKind::Date),
            Column::new("max_depth", "Max depth", ColumnKind::Integer),
            Column::new("avg_depth", "Avg depth", ColumnKind::Number),
        ],
    );
    for d in w.day_starts() {
        let (max, sum, n) = per.get(&d).copied().unwrap_or((0, 0, 0));
        t.push(vec![
            Cell::from(iso_day(d)),
            Cell::from(max),
            Cell::from((n > 0).then(|| round(sum as f64 / n as f64, 1))),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::Line, "day", &["max_depth", "avg_depth"]));
    Ok(t)
}
