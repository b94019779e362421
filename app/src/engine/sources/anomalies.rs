//! Anomaly detection: for each metric × dimension, the period's daily values are compared with
//! the 28 days before it. z = (mean of the period's daily values − baseline mean) / (baseline
//! standard deviation / √n), i.e. how unusual the period's mean is given normal day-to-day
//! variation; severity info ≥ 2, warning ≥ 3, critical ≥ 4 (PRODUCT §3).

use super::common::{decisions, interactions, iso_day, names, round, By, Ctx, Window};
use crate::engine::rollups::DAY_MS;
use crate::model::{AppError, Cell, Column, ColumnKind, Table};
use std::collections::HashMap;

/// Days of baseline before the period.
pub const BASELINE_DAYS: i64 = 28;
/// Days with fewer impressions than this are left out of rate series (too noisy to judge).
pub const MIN_DAILY_IMPRESSIONS: i64 = 20;

/// One detected anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// Metric name ("Acceptance rate").
    pub metric: String,
    /// Dimension ("offer: Cashback Bonus", "all decisions").
    pub dimension: String,
    /// Mean of the period's daily values.
    pub current: f64,
    /// Mean of the baseline's daily values.
    pub baseline: f64,
    /// Δ% against the baseline.
    pub delta_pct: f64,
    /// z-score.
    pub z: f64,
    /// info, warning or critical.
    pub severity: &'static str,
}

/// Severity of a z-score, None below 2.
pub fn severity(z: f64) -> Option<&'static str> {
    let a = z.abs();
    if a >= 4.0 {
        Some("critical")
    } else if a >= 3.0 {
        Some("warning")
    } else if a >= 2.0 {
        Some("info")
    } else {
        None
    }
}

/// Scores one series; None when there is too little baseline or no variation to judge by.
pub fn score(baseline: &[f64], current: &[f64]) -> Option<(f64, f64, f64, f64)> {
    if baseline.len() < 7 || current.is_empty() {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (bm, cm) = (mean(baseline), mean(current));
    let var = baseline.iter().map(|x| (x - bm).powi(2)).sum::<f64>() / (baseline.len() - 1) as f64;
    let sd = var.sqrt();
    if sd <= f64::EPSILON || bm == 0.0 {
        return None;
    }
    let z = (cm - bm) / (sd / (current.len() as f64).sqrt());
    Some((cm, bm, (cm - bm) / bm.abs() * 100.0, z))
}

type Series = HashMap<String, Vec<(i64, f64)>>;

fn split(points: &[(i64, f64)], w: Window) -> (Vec<f64>, Vec<f64>) {
    let base = points.iter().filter(|(d, _)| *d < w.start).map(|p| p.1).collect();
    let cur = points.iter().filter(|(d, _)| *d >= w.start).map(|p| p.1).collect();
    (base, cur)
}

/// Detects anomalies in window `w` (baseline: the 28 days before it), most severe first.
pub async fn detect(ctx: &Ctx<'_>, w: Window) -> Result<Vec<Anomaly>, AppError> {
    let span = Window { start: w.start - BASELINE_DAYS * DAY_MS, end: w.end };
    let mut found = Vec::new();
    for (by, dim_label, table) in [(By::DayOffer, "offer", "offers"), (By::DayChannel, "channel", "channels")] {
        let rows = interactions(ctx, span, by).await?;
        let names = names(ctx, table).await?;
        let mut series: Series = HashMap::new();
        for (k, agg) in rows {
            let Some((day, id)) = k.split_once('|') else { continue };
            if agg.impressions >= MIN_DAILY_IMPRESSIONS {
                if let (Ok(day), Some(rate)) = (day.parse::<i64>(), agg.acceptance_pct()) {
                    series.entry(id.to_string()).or_default().push((day, rate));
                }
            }
        }
        for (id, points) in series {
            let (base, cur) = split(&points, w);
            if let Some((c, b, d, z)) = score(&base, &cur) {
                if let Some(sev) = severity(z) {
                    let name = names.get(&id).cloned().unwrap_or(id);
                    found.push(Anomaly {
                        metric: "Acceptance rate".into(),
                        dimension: format!("{dim_label}: {name}"),
                        current: c,
                        baseline: b,
                        delta_pct: d,
                        z,
                        severity: sev,
                    });
                }
            }
        }
    }
    let per_day = decisions(ctx, span, true).await?;
    let mut latency = Vec::new();
    let mut degraded = Vec::new();
    for (day, a) in &per_day {
        if a.decisions > 0 {
            latency.push((*day, a.latency_sum_ms / a.decisions as f64));
            degraded.push((*day, a.degraded as f64 / a.decisions as f64 * 100.0));
        }
    }
    for (metric, points) in [("Average decision latency", latency), ("Degraded scoring rate", degraded)] {
        let (base, cur) = split(&points, w);
        if let Some((c, b, d, z)) = score(&base, &cur) {
            if let Some(sev) = severity(z) {
                found.push(Anomaly {
                    metric: metric.into(),
                    dimension: "all decisions".into(),
                    current: c,
                    baseline: b,
                    delta_pct: d,
                    z,
                    severity: sev,
                });
            }
        }
    }
    found.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()).then_with(|| a.dimension.cmp(&b.dimension)));
    Ok(found)
}

/// A plain-language explanation for the Explain popover.
pub fn explain(a: &Anomaly) -> String {
    let dir = if a.delta_pct < 0.0 { "fell" } else { "rose" };
    format!(
        "{} for {} {} from a baseline of {:.2} to {:.2} ({:+.1} %) over the period; z = {:.1} against the previous {} days' daily variation. \
         Check recent changes to this {}'s targeting, creative or budget, and whether an upstream feed changed.",
        a.metric,
        a.dimension,
        dir,
        a.baseline,
        a.current,
        a.delta_pct,
        a.z,
        BASELINE_DAYS,
        a.dimension.split(':').next().unwrap_or("dimension")
    )
}

/// `anomalies`: the feed on the Executive dashboard.
pub async fn source(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let mut t = Table::new(
        "anomalies",
        "Anomalies",
        vec![
            Column::new("severity", "Severity", ColumnKind::Text),
            Column::new("metric", "Metric", ColumnKind::Text),
            Column::new("dimension", "Dimension", ColumnKind::Text),
            Column::new("current", "Period mean", ColumnKind::Number),
            Column::new("baseline", "Baseline mean", ColumnKind::Number),
            Column::new("delta_pct", "Δ vs baseline", ColumnKind::Percent),
            Column::new("z_score", "z-score", ColumnKind::Number).decimals(1),
            Column::new("explanation", "Explanation", ColumnKind::Text),
            // The means are in their metric's unit: a rate's in percent, a latency's in ms.
            Column::internal("format", ColumnKind::Text),
        ],
    );
    for a in detect(ctx, w).await? {
        let explanation = explain(&a);
        let format = if a.metric.contains("latency") { "duration" } else { "percent" };
        t.push(vec![
            Cell::from(a.severity),
            Cell::from(a.metric),
            Cell::from(a.dimension),
            Cell::from(round(a.current, 3)),
            Cell::from(round(a.baseline, 3)),
            Cell::from(round(a.delta_pct, 1)),
            Cell::from(round(a.z, 2)),
            Cell::from(explanation),
            Cell::from(format),
        ]);
    }
    t.note = Some(format!(
        "{} to {} against the {} days before; z ≥ 2 info, ≥ 3 warning, ≥ 4 critical",
        iso_day(w.start),
        iso_day(w.end - DAY_MS),
        BASELINE_DAYS
    ));
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_scores_and_severities_match_a_hand_computation() {
        // Baseline alternates 9 and 11: mean 10, sample sd = sqrt(28 / 27) ≈ 1.0184.
        let base: Vec<f64> = (0..28).map(|i| if i % 2 == 0 { 9.0 } else { 11.0 }).collect();
        let (cur, bm, d, z) = score(&base, &[7.0, 7.0, 7.0, 7.0]).unwrap();
        assert_eq!((cur, bm), (7.0, 10.0));
        assert!((d + 30.0).abs() < 1e-9);
        let expected = -3.0 / ((28.0f64 / 27.0).sqrt() / 2.0);
        assert!((z - expected).abs() < 1e-9, "{z} vs {expected}");
        assert_eq!(severity(z), Some("critical"));
        assert_eq!(severity(3.2), Some("warning"));
        assert_eq!(severity(-2.5), Some("info"));
        assert_eq!(severity(1.99), None);
    }

    #[test]
    fn flat_or_short_baselines_are_not_judged() {
        assert!(score(&[5.0; 28], &[9.0]).is_none());
        assert!(score(&[1.0, 2.0, 3.0], &[9.0]).is_none());
    }
}
