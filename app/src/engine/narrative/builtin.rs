//! The built-in narrator: deterministic, offline, always available. It reads the report's own
//! tables — the KPI movers against the previous period, anomalies, best and worst offers and
//! channels, and each dashboard's health signals — and writes plain sentences whose every number
//! is copied from those tables as they are displayed.

use crate::engine::sources::operations::FLAG_ABOVE_PCT;
use crate::model::table::format_cell;
use crate::model::{Cell, Narrative, Report, SectionNarrative, Table};

/// Longest executive summary, in words.
pub const MAX_SUMMARY_WORDS: usize = 120;

fn text(t: &Table, row: usize, key: &str) -> String {
    match (t.col(key), t.cell(row, key)) {
        (Some(c), Some(cell)) => format_cell(cell, t.columns[c].kind),
        _ => String::new(),
    }
}

fn num(t: &Table, row: usize, key: &str) -> Option<f64> {
    t.cell(row, key).and_then(Cell::as_f64)
}

fn section<'a>(r: &'a Report, source: &str) -> Option<&'a Table> {
    r.sections.iter().find(|t| t.source == source && !t.rows.is_empty())
}

/// Rows ranked by a numeric column (ties by label), skipping rows with fewer than `min` in `volume`.
fn ranked(t: &Table, key: &str, volume: Option<(&str, f64)>) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..t.rows.len())
        .filter(|i| num(t, *i, key).is_some())
        .filter(|i| volume.is_none_or(|(k, min)| num(t, *i, k).unwrap_or(0.0) >= min))
        .collect();
    rows.sort_by(|a, b| num(t, *b, key).unwrap_or(0.0).total_cmp(&num(t, *a, key).unwrap_or(0.0)));
    rows
}

/// A sentence about the best and worst rows of `t` by `key`.
fn best_worst(
    t: &Table,
    label: &str,
    key: &str,
    noun: &str,
    what: &str,
    volume: Option<(&str, f64)>,
) -> Option<String> {
    let r = ranked(t, key, volume);
    let (best, worst) = (*r.first()?, *r.last()?);
    if best == worst {
        return Some(format!(
            "The only {noun} with data, {}, had {what} of {}.",
            text(t, best, label),
            text(t, best, key)
        ));
    }
    Some(format!(
        "The strongest {noun} by {what} was {} at {}; the weakest was {} at {}.",
        text(t, best, label),
        text(t, best, key),
        text(t, worst, label),
        text(t, worst, key)
    ))
}

/// KPI movers, largest |Δ| first: (sentence fragment, |Δ|).
fn movers(r: &Report) -> Vec<(String, f64)> {
    let Some(t) = r.sections.iter().find(|t| t.col("chip").is_some()) else { return Vec::new() };
    let mut out: Vec<(String, f64)> = Vec::new();
    for (i, k) in r.kpis.iter().enumerate() {
        let d = num(t, i, "delta_pct");
        let frag = match d {
            Some(_) => format!("{} {} ({} vs the previous period)", k.label, k.value, k.delta),
            None if k.delta == "New" => format!("{} {} (new: nothing in the previous period)", k.label, k.value),
            None => format!("{} {}", k.label, k.value),
        };
        out.push((frag, d.map(f64::abs).unwrap_or(-1.0)));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

fn anomaly_sentence(t: &Table) -> String {
    let n = t.rows.len();
    format!(
        "{n} anomal{} detected; the most severe is {} for {} ({} vs baseline, {}).",
        if n == 1 { "y was" } else { "ies were" },
        text(t, 0, "metric"),
        text(t, 0, "dimension"),
        text(t, 0, "delta_pct"),
        text(t, 0, "severity")
    )
}

/// Dashboard-specific observations, most important first.
fn observations(r: &Report) -> Vec<(String, String)> {
    let mut obs: Vec<(String, String)> = Vec::new();
    if let Some(t) = section(r, "anomalies") {
        obs.push(("anomalies".into(), anomaly_sentence(t)));
    }
    for (src, label, key, noun, what, vol) in [
        ("acceptance_by_offer", "offer", "acceptance_rate", "offer", "acceptance rate", Some(("impressions", 100.0))),
        ("offer_performance", "name", "conversion_rate", "offer", "conversion rate", Some(("impressions", 100.0))),
        (
            "channel_effectiveness",
            "channel",
            "effectiveness",
            "channel",
            "acceptance rate",
            Some(("impressions", 100.0)),
        ),
        ("attribution_by_channel", "name", "share", "channel", "attributed share", None),
        ("attribution_by_offer", "name", "share", "offer", "attributed share", None),
        ("selection_frequency", "offer", "selections", "offer", "selections", None),
    ] {
        if let Some(s) = section(r, src).and_then(|t| best_worst(t, label, key, noun, what, vol)) {
            obs.push((src.into(), s));
        }
    }
    if let Some(t) = section(r, "decision_pipeline") {
        let red: Vec<String> = (0..t.rows.len())
            .filter(|i| text(t, *i, "flag") == "flagged")
            .map(|i| format!("{} ({})", text(t, i, "stage"), text(t, i, "filter_rate")))
            .collect();
        let s = if red.is_empty() {
            format!("No decision-pipeline stage filters more than {FLAG_ABOVE_PCT} % of candidates.")
        } else {
            format!(
                "Decision-pipeline stages filtering more than {FLAG_ABOVE_PCT} % of candidates: {}.",
                red.join(", ")
            )
        };
        obs.push(("decision_pipeline".into(), s));
    }
    if let Some(t) = section(r, "breaker_states") {
        let open: Vec<String> = (0..t.rows.len())
            .filter(|i| text(t, *i, "state") != "closed")
            .map(|i| format!("{} is {}", text(t, i, "breaker"), text(t, i, "state")))
            .collect();
        obs.push((
            "breaker_states".into(),
            if open.is_empty() {
                "All circuit breakers are closed.".into()
            } else {
                format!("Circuit breakers not closed: {}.", open.join("; "))
            },
        ));
    }
    if let Some(t) = section(r, "model_drift") {
        let bad: Vec<String> = (0..t.rows.len())
            .filter(|i| text(t, *i, "status") != "ok")
            .map(|i| format!("{} (PSI {}, {})", text(t, i, "model"), text(t, i, "psi"), text(t, i, "status")))
            .collect();
        obs.push((
            "model_drift".into(),
            if bad.is_empty() {
                "No model shows drift (every PSI is below 0.1).".into()
            } else {
                format!("Models drifting: {}.", bad.join("; "))
            },
        ));
    }
    if let Some(t) = section(r, "model_auc_summary") {
        if let Some(i) = ranked(t, "delta", None).last().copied() {
            obs.push((
                "model_auc_summary".into(),
                format!(
                    "{}'s AUC moved from {} to {} ({}).",
                    text(t, i, "model"),
                    text(t, i, "previous_auc"),
                    text(t, i, "latest_auc"),
                    text(t, i, "delta")
                ),
            ));
        }
    }
    if let Some(t) = section(r, "connector_status") {
        let failing: Vec<String> = (0..t.rows.len())
            .filter(|i| text(t, *i, "status") != "healthy")
            .map(|i| format!("{} ({})", text(t, i, "connector"), text(t, i, "status")))
            .collect();
        obs.push((
            "connector_status".into(),
            if failing.is_empty() {
                "Every connector is healthy.".into()
            } else {
                format!("Connectors needing attention: {}.", failing.join(", "))
            },
        ));
    }
    if let Some(t) = section(r, "pipeline_runs") {
        let failed = (0..t.rows.len()).filter(|i| text(t, *i, "status") == "failed").count();
        obs.push((
            "pipeline_runs".into(),
            format!("{failed} of the {} most recent pipeline runs failed.", t.rows.len()),
        ));
    }
    obs
}

fn truncate_words(s: &str, max: usize) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() <= max {
        return s.to_string();
    }
    // Cut at the last full sentence that fits.
    let mut out = String::new();
    for sentence in s.split_inclusive(". ") {
        if (out.clone() + sentence).split_whitespace().count() > max {
            break;
        }
        out.push_str(sentence);
    }
    if out.is_empty() {
        words[..max].join(" ")
    } else {
        out.trim_end().to_string()
    }
}

/// Writes the narrative of a report from its own data.
pub fn narrate(r: &Report) -> Narrative {
    let movers = movers(r);
    let obs = observations(r);
    let mut summary = format!("{} for {}, {} ({}).", r.dashboard.title(), r.tenant, r.period.label(), r.period_text());
    if !movers.is_empty() {
        let top: Vec<&str> = movers.iter().take(3).map(|m| m.0.as_str()).collect();
        summary.push_str(&format!(" The largest movements: {}.", top.join("; ")));
    }
    for (_, s) in obs.iter().take(2) {
        summary.push(' ');
        summary.push_str(s);
    }
    let mut takeaways: Vec<String> = movers.iter().filter(|m| m.1 >= 0.0).take(2).map(|m| m.0.clone()).collect();
    takeaways.extend(obs.iter().map(|o| o.1.clone()));
    if takeaways.len() < 3 {
        for t in r.sections.iter().filter(|t| t.col("chip").is_none()) {
            takeaways.push(format!("{}: {} row(s) in this report.", t.title, t.rows.len()));
        }
    }
    takeaways.truncate(5);
    while takeaways.len() < 3 {
        takeaways.push(format!("The data covers {}.", r.period_text()));
    }
    let sections = r
        .sections
        .iter()
        .filter_map(|t| {
            let p = obs.iter().find(|o| o.0 == t.source).map(|o| o.1.clone()).or_else(|| {
                (t.col("chip").is_some() && !movers.is_empty())
                    .then(|| format!("{}.", movers.iter().map(|m| m.0.as_str()).collect::<Vec<_>>().join("; ")))
            })?;
            Some(SectionNarrative { id: t.source.clone(), paragraph: p })
        })
        .collect();
    Narrative {
        executive_summary: truncate_words(&summary, MAX_SUMMARY_WORDS),
        sections,
        key_takeaways: takeaways,
        provider: "builtin".into(),
        model: None,
        fallback: false,
        fallback_reason: None,
    }
}
