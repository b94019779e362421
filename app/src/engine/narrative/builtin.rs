//! The built-in narrator: deterministic, offline, always available. It reads the report's own
//! tables — the KPI movers against the previous period, anomalies, best and worst offers and
//! channels, and each dashboard's health signals — and writes plain sentences whose every number
//! is copied from those tables as they are displayed.

use crate::engine::sources::operations::FLAG_ABOVE_PCT;
use crate::model::table::format_cell;
use crate::model::{Cell, Narrative, Report, SectionNarrative, Table};

/// Longest executive summary, in words.
pub const MAX_SUMMARY_WORDS: usize = 120;

pub(super) fn text(t: &Table, row: usize, key: &str) -> String {
    match (t.col(key), t.cell(row, key)) {
        (Some(c), Some(cell)) => format_cell(cell, t.columns[c].kind),
        _ => String::new(),
    }
}

pub(super) fn num(t: &Table, row: usize, key: &str) -> Option<f64> {
    t.cell(row, key).and_then(Cell::as_f64)
}

pub(super) fn section<'a>(r: &'a Report, source: &str) -> Option<&'a Table> {
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

/// A sentence about the best and worst rows of `t` by `key`, and a point to act on.
fn best_worst(
    t: &Table,
    label: &str,
    key: &str,
    noun: &str,
    what: &str,
    volume: Option<(&str, f64)>,
) -> Option<(String, Option<String>)> {
    let r = ranked(t, key, volume);
    let (best, worst) = (*r.first()?, *r.last()?);
    if best == worst {
        return Some((
            format!("The only {noun} with data, {}, had {what} of {}.", text(t, best, label), text(t, best, key)),
            None,
        ));
    }
    Some((
        format!(
            "The strongest {noun} by {what} was {} at {}; the weakest was {} at {}.",
            text(t, best, label),
            text(t, best, key),
            text(t, worst, label),
            text(t, worst, key)
        ),
        Some(format!(
            "Review {} ({} {what}) against {}.",
            text(t, worst, label),
            text(t, worst, key),
            text(t, best, label)
        )),
    ))
}

/// How much a KPI matters to the business, most first: money and outcomes, then volume and
/// model quality, counts of things last.
fn weight(key: &str) -> u8 {
    match key {
        "revenue" => 0,
        "conversions" => 1,
        "conversion_rate" | "acceptance_rate" => 2,
        "decisions" | "impressions" => 3,
        "model_auc" => 4,
        "anomalies" => 9,
        _ => 6,
    }
}

/// A percentage change as a person says it: whole percents from 10 up ("17 %"), one decimal below.
pub fn spoken_pct(d: f64) -> String {
    let d = d.abs();
    if d >= 10.0 {
        format!("{d:.0} %")
    } else {
        format!("{d:.1} %")
    }
}

/// A KPI value as a person says it: "$82.7k", "$1.2M", "$635", "20,962", "8.6 %", "0.770".
pub fn spoken_value(v: f64, format: &str) -> String {
    use crate::model::table::group_thousands;
    match format {
        "money" if v.abs() >= 1e6 => format!("${:.1}M", v / 1e6),
        "money" if v.abs() >= 1e4 => format!("${:.1}k", v / 1e3),
        "money" => format!("${}", group_thousands(v, 0)),
        "percent" => format!("{v:.1} %"),
        "integer" => group_thousands(v, 0),
        _ => format!("{v:.3}"),
    }
}

/// One KPI's movement against the previous period.
struct Mover {
    key: String,
    label: String,
    /// Δ % (None: no previous value).
    delta: Option<f64>,
    /// Value as a person says it.
    value: String,
    /// More is worse (anomalies).
    up_is_bad: bool,
}

impl Mover {
    /// Moved by at least 1 %.
    fn moved(&self) -> bool {
        self.delta.is_some_and(|d| d.abs() >= 1.0)
    }

    /// "Revenue rose 17 % to $82.7k".
    fn sentence(&self) -> String {
        match self.delta {
            Some(d) if d.abs() >= 1.0 => {
                format!("{} {} {} to {}", self.label, if d > 0.0 { "rose" } else { "fell" }, spoken_pct(d), self.value)
            }
            Some(_) => format!("{} held steady at {}", self.label, self.value),
            None => format!("{} was {}, with nothing to compare against", self.label, self.value),
        }
    }

    /// A short point for the takeaways, worded differently from the sentence.
    fn point(&self) -> String {
        let d = self.delta.unwrap_or_default();
        let worse = (d < 0.0) != self.up_is_bad;
        let how = format!("{} {} to {}", if d < 0.0 { "down" } else { "up" }, spoken_pct(d), self.value);
        match (worse, d.abs() >= 10.0) {
            (true, true) => format!("Look into {}: {how}.", self.label),
            (true, false) => format!("Keep an eye on {}: {how}.", self.label),
            (false, _) => format!("{} {how}.", self.label),
        }
    }
}

/// KPI movers, by business weight and then by size of the change.
fn movers(r: &Report) -> Vec<Mover> {
    let Some(t) = r.sections.iter().find(|t| t.col("chip").is_some()) else { return Vec::new() };
    let mut out: Vec<Mover> = (0..t.rows.len())
        .map(|i| {
            let format = t.cell(i, "format").map(Cell::as_text).unwrap_or_default();
            Mover {
                key: t.cell(i, "metric").map(Cell::as_text).unwrap_or_default(),
                label: t.cell(i, "label").map(Cell::as_text).unwrap_or_default(),
                delta: num(t, i, "delta_pct"),
                value: spoken_value(num(t, i, "value").unwrap_or_default(), &format),
                up_is_bad: t.cell(i, "chip").map(Cell::as_text).as_deref() == Some("red")
                    && num(t, i, "delta_pct").is_some_and(|d| d > 0.0),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (weight(&a.key), -a.delta.map(f64::abs).unwrap_or(0.0))
            .partial_cmp(&(weight(&b.key), -b.delta.map(f64::abs).unwrap_or(0.0)))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

fn anomaly_sentence(t: &Table) -> String {
    let n = t.rows.len();
    let d = num(t, 0, "delta_pct").unwrap_or_default();
    format!(
        "{n} anomal{} found; the most severe ({}): {} for {}, {} {} its baseline.",
        if n == 1 { "y was" } else { "ies were" },
        text(t, 0, "severity"),
        text(t, 0, "metric"),
        dimension_words(&text(t, 0, "dimension")),
        spoken_pct(d),
        if d < 0.0 { "below" } else { "above" },
    )
}

/// One observation: its section, what it says there, and a point to act on (for the takeaways,
/// worded differently so nothing is said twice).
struct Obs {
    source: String,
    sentence: String,
    point: Option<String>,
}

fn obs(source: &str, sentence: String, point: Option<String>) -> Obs {
    Obs { source: source.into(), sentence, point }
}

/// Dashboard-specific observations, most important first.
fn observations(r: &Report) -> Vec<Obs> {
    let mut out: Vec<Obs> = Vec::new();
    if let Some(t) = section(r, "anomalies") {
        let point = format!(
            "Start with {} for {}, the most severe of {} anomal{}.",
            text(t, 0, "metric"),
            dimension_words(&text(t, 0, "dimension")),
            t.rows.len(),
            if t.rows.len() == 1 { "y" } else { "ies" }
        );
        out.push(obs("anomalies", anomaly_sentence(t), Some(point)));
    }
    if let Some(t) = section(r, "connector_status") {
        let failing: Vec<usize> = (0..t.rows.len()).filter(|i| text(t, *i, "status") != "healthy").collect();
        let names = list_words(failing.iter().map(|i| text(t, *i, "connector")));
        out.push(if failing.is_empty() {
            obs("connector_status", "Every connector is healthy.".into(), None)
        } else {
            let state: Vec<String> =
                failing.iter().map(|i| format!("{} ({})", text(t, *i, "connector"), text(t, *i, "status"))).collect();
            obs(
                "connector_status",
                format!("Connectors needing attention: {}.", state.join(", ")),
                Some(format!(
                    "Fix {names} first: data from {} is missing until it recovers.",
                    if failing.len() == 1 { "it" } else { "them" }
                )),
            )
        });
    }
    if let Some(t) = section(r, "model_drift") {
        let bad: Vec<usize> = (0..t.rows.len()).filter(|i| text(t, *i, "status") != "ok").collect();
        out.push(if bad.is_empty() {
            obs("model_drift", "No model shows drift (every PSI is below 0.1).".into(), None)
        } else {
            let what: Vec<String> = bad
                .iter()
                .map(|i| format!("{} (PSI {}, {})", text(t, *i, "model"), text(t, *i, "psi"), text(t, *i, "status")))
                .collect();
            obs(
                "model_drift",
                format!("Models drifting: {}.", what.join("; ")),
                Some(format!(
                    "Plan a retrain of {}: its inputs no longer look like its training data.",
                    list_words(bad.iter().map(|i| text(t, *i, "model")))
                )),
            )
        });
    }
    if let Some(t) = section(r, "model_auc_summary") {
        if let Some(i) = ranked(t, "delta", None).last().copied() {
            let model = text(t, i, "model");
            // A cause the data supports: the same model's inputs drifting.
            let drift = section(r, "model_drift").and_then(|d| {
                (0..d.rows.len())
                    .find(|j| text(d, *j, "model") == model && text(d, *j, "status") != "ok")
                    .map(|j| format!(", as its inputs drifted (PSI {})", text(d, j, "psi")))
            });
            let falling = num(t, i, "delta").is_some_and(|d| d < 0.0);
            out.push(obs(
                "model_auc_summary",
                format!(
                    "{model}'s AUC moved from {} to {} ({}){}.",
                    text(t, i, "previous_auc"),
                    text(t, i, "latest_auc"),
                    text(t, i, "delta"),
                    if falling { drift.unwrap_or_default() } else { String::new() }
                ),
                num(t, i, "delta").is_some_and(|d| d < 0.0).then(|| {
                    format!("Watch {}: the weakest AUC trend, now {}.", text(t, i, "model"), text(t, i, "latest_auc"))
                }),
            ));
        }
    }
    // A falling AUC explained by its model's drift says both at once, where the drift was.
    let at = |src: &str, out: &[Obs]| out.iter().position(|o| o.source == src);
    if let (Some(ai), Some(di)) = (at("model_auc_summary", &out), at("model_drift", &out)) {
        if out[ai].sentence.contains("as its inputs drifted") && !out[di].sentence.contains(';') {
            let mut auc = out.remove(ai);
            auc.point = out[di].point.take().or(auc.point);
            out[di] = auc;
        }
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
        if let Some((sentence, point)) = section(r, src).and_then(|t| best_worst(t, label, key, noun, what, vol)) {
            out.push(obs(src, sentence, point));
        }
    }
    if let Some(t) = section(r, "pipeline_runs") {
        let failed: Vec<usize> = (0..t.rows.len()).filter(|i| text(t, *i, "status") == "failed").collect();
        // Since when (the earliest failure listed) and why (the error most of them give).
        let since = failed.iter().map(|i| text(t, *i, "started")).filter(|s| s.len() >= 10).min();
        let mut errors: Vec<(String, usize)> = Vec::new();
        for i in &failed {
            let e = text(t, *i, "error");
            if e.is_empty() || e == "—" {
                continue;
            }
            match errors.iter_mut().find(|(x, _)| *x == e) {
                Some((_, n)) => *n += 1,
                None => errors.push((e, 1)),
            }
        }
        errors.sort_by_key(|e| std::cmp::Reverse(e.1));
        let mut sentence = format!("{} of the {} most recent pipeline runs failed", failed.len(), t.rows.len());
        if let Some(day) = &since {
            sentence.push_str(&format!(", the first on {} (UTC)", &day[..10]));
        }
        match errors.first() {
            Some((e, n)) if *n * 2 > failed.len() => sentence.push_str(&format!(", most with \u{201c}{e}\u{201d}.")),
            _ => sentence.push('.'),
        }
        let point = errors.first().map(|(e, _)| {
            format!(
                "Fix the cause the failed pipeline runs give, \u{201c}{e}\u{201d}: {} of the last {} failed.",
                failed.len(),
                t.rows.len()
            )
        });
        out.push(obs("pipeline_runs", sentence, point.filter(|_| !failed.is_empty())));
    }
    if let Some(t) = section(r, "decision_pipeline") {
        let red: Vec<usize> = (0..t.rows.len()).filter(|i| text(t, *i, "flag") == "flagged").collect();
        out.push(if red.is_empty() {
            obs(
                "decision_pipeline",
                format!("No decision-pipeline stage filters more than {FLAG_ABOVE_PCT} % of candidates."),
                None,
            )
        } else {
            let what: Vec<String> =
                red.iter().map(|i| format!("{} ({})", text(t, *i, "stage"), text(t, *i, "filter_rate"))).collect();
            obs(
                "decision_pipeline",
                format!(
                    "Decision-pipeline stages filtering more than {FLAG_ABOVE_PCT} % of candidates: {}.",
                    what.join(", ")
                ),
                Some(format!(
                    "Check the rules of {}: too few candidates survive it.",
                    list_words(red.iter().map(|i| text(t, *i, "stage")))
                )),
            )
        });
    }
    if let Some(t) = section(r, "breaker_states") {
        let open: Vec<usize> = (0..t.rows.len()).filter(|i| text(t, *i, "state") != "closed").collect();
        out.push(if open.is_empty() {
            obs("breaker_states", "All circuit breakers are closed.".into(), None)
        } else {
            let what: Vec<String> = open
                .iter()
                .map(|i| format!("{} is {}", text(t, *i, "breaker"), text(t, *i, "state").replace('_', "-")))
                .collect();
            obs(
                "breaker_states",
                format!("Circuit breakers not closed: {}.", what.join("; ")),
                Some(format!(
                    "Check {}: calls to it are being cut short.",
                    list_words(open.iter().map(|i| text(t, *i, "breaker")))
                )),
            )
        });
    }
    // Headline figures of a dashboard without movers (Operations' runs, Data Health's counts).
    for t in
        r.sections.iter().filter(|t| t.col("chip").is_none() && t.col("format").is_some() && t.col("label").is_some())
    {
        let cols: Vec<usize> = t.col("value").into_iter().collect();
        let Some(&v) = cols.first() else { continue };
        let facts: Vec<String> = (0..t.rows.len().min(4))
            .map(|i| format!("{} {}", text(t, i, "label"), crate::model::table::display_cell(t, i, v)))
            .collect();
        if !facts.is_empty() {
            out.push(obs(&t.source, format!("{}: {}.", t.title, facts.join(", ")), None));
        }
    }
    out
}

/// An anomaly's dimension in words: "offer: Cashback Bonus" → "the Cashback Bonus offer".
fn dimension_words(d: &str) -> String {
    match d.split_once(": ") {
        Some((kind, name)) => format!("the {name} {kind}"),
        None => d.to_string(),
    }
}

/// "30 days", "7 days", "day".
fn period_words(r: &Report) -> String {
    match r.period.days() {
        1 => "day".into(),
        n => format!("{n} days"),
    }
}

/// "A, B and C".
fn list_words(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
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

/// Writes the narrative of a report from its own data. Each sentence appears once: the summary
/// takes the weightiest movements and the most important observations; each section keeps the
/// observations the summary left; the takeaways are short points, worded for action.
pub fn narrate(r: &Report) -> Narrative {
    let movers = movers(r);
    let obs = observations(r);
    let moved: Vec<&Mover> = movers.iter().filter(|m| m.moved()).collect();
    let steady: Vec<&Mover> = movers.iter().filter(|m| !m.moved() && m.delta.is_some()).collect();
    let mut summary = format!("{} for {}, {} ({}).", r.dashboard.title(), r.tenant, r.period.label(), r.period_text());
    let lead: Vec<String> = moved.iter().take(2).map(|m| m.sentence()).collect();
    if !lead.is_empty() {
        summary.push_str(&format!(" Against the previous {}: {}.", period_words(r), lead.join("; ")));
    } else if !movers.is_empty() {
        summary.push_str(" The key metrics held steady against the previous period.");
    }
    // One observation beside the movements, two when there are none.
    let in_summary = if movers.is_empty() { 2 } else { 1 };
    for o in obs.iter().take(in_summary) {
        summary.push(' ');
        summary.push_str(&o.sentence);
    }
    // Sections: the KPI section tells the movements the summary left out; every other section
    // its own observations, unless the summary already said them.
    let rest: Vec<String> = moved.iter().skip(2).map(|m| m.sentence()).collect();
    let mut kpi_paragraph = rest.join("; ");
    if !steady.is_empty() {
        let names: Vec<String> = steady.iter().map(|m| format!("{} ({})", m.label, m.value)).collect();
        if !kpi_paragraph.is_empty() {
            kpi_paragraph.push_str(". ");
        }
        kpi_paragraph.push_str(&format!("Steady: {}", names.join(", ")));
    }
    let sections = r
        .sections
        .iter()
        .filter_map(|t| {
            let p = if t.col("chip").is_some() {
                (!kpi_paragraph.is_empty()).then(|| format!("{kpi_paragraph}."))
            } else {
                let mine: Vec<&str> =
                    obs.iter().skip(in_summary).filter(|o| o.source == t.source).map(|o| o.sentence.as_str()).collect();
                (!mine.is_empty()).then(|| mine.join(" "))
            }?;
            Some(SectionNarrative { id: t.source.clone(), paragraph: p })
        })
        .collect();
    // Takeaways: what to act on, by weight — the worst anomaly, the movements, the observations'
    // points; at least three.
    let mut takeaways: Vec<String> =
        obs.iter().filter(|o| o.source == "anomalies").filter_map(|o| o.point.clone()).collect();
    takeaways.extend(moved.iter().filter(|m| m.key != "anomalies").take(3).map(|m| m.point()));
    takeaways.extend(obs.iter().filter(|o| o.source != "anomalies").filter_map(|o| o.point.clone()));
    if takeaways.len() < 3 && !steady.is_empty() {
        takeaways.push(format!("{} changed by less than 1 %.", list_words(steady.iter().map(|m| m.label.clone()))));
    }
    if takeaways.len() < 3 && !obs.is_empty() && obs.iter().all(|o| o.point.is_none()) {
        takeaways.push("Nothing here needs action this period.".into());
    }
    for t in r.sections.iter().filter(|t| t.col("chip").is_none() && !t.rows.is_empty()) {
        if takeaways.len() >= 3 {
            break;
        }
        takeaways.push(format!("{} lists {} row{}.", t.title, t.rows.len(), if t.rows.len() == 1 { "" } else { "s" }));
    }
    takeaways.truncate(5);
    while takeaways.len() < 3 {
        takeaways.push(format!("The data covers {}.", r.period_text()));
    }
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
