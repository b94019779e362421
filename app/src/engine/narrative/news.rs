//! Whether a report has news: the findings the built-in narrator writes about, each with a
//! severity, and a template's send condition decided on them. The narrative and the decision
//! read the same tables the same way, so a report that says "Braze is failing" is the report
//! that is sent when "send only on a problem" is chosen.
//!
//! Severities (documented in the README):
//! - an anomaly: its own severity (z ≥ 2 info, ≥ 3 warning, ≥ 4 critical);
//! - a connector: `failing` critical, any other state but `healthy` warning;
//! - a model's drift: PSI > 0.25 (`retrain`) critical, ≥ 0.1 (`monitor`) warning;
//! - a model's AUC against the previous period: down 0.05 or more critical, 0.02 or more warning;
//! - pipeline runs: half or more of the recent runs failed critical, any failed warning;
//! - a circuit breaker: `open` critical, `half_open` warning;
//! - a decision-pipeline stage filtering more than the flag threshold: warning.

use super::builtin::{num, section, text};
use crate::model::reports::{SendKind, SendWhen, Severity};
use crate::model::Report;

/// AUC drop (absolute) that is a warning, and one that is critical.
const AUC_WARNING: f64 = 0.02;
const AUC_CRITICAL: f64 = 0.05;

/// One thing in the report that needs a look.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// The section it is in.
    pub source: String,
    /// What it is, in words ("Braze is failing").
    pub what: String,
}

fn finding(severity: Severity, source: &str, what: String) -> Finding {
    Finding { severity, source: source.into(), what }
}

/// Every finding of the report, most severe first.
pub fn findings(r: &Report) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(t) = section(r, "anomalies") {
        for i in 0..t.rows.len() {
            if let Some(sev) = Severity::parse(&text(t, i, "severity")) {
                let what =
                    format!("{} for {} ({})", text(t, i, "metric"), text(t, i, "dimension"), text(t, i, "delta_pct"));
                out.push(finding(sev, "anomalies", what));
            }
        }
    }
    if let Some(t) = section(r, "connector_status") {
        for i in 0..t.rows.len() {
            let status = text(t, i, "status");
            let sev = match status.as_str() {
                "healthy" => continue,
                "failing" => Severity::Critical,
                _ => Severity::Warning,
            };
            out.push(finding(sev, "connector_status", format!("connector {} is {status}", text(t, i, "connector"))));
        }
    }
    if let Some(t) = section(r, "model_drift") {
        for i in 0..t.rows.len() {
            let sev = match text(t, i, "status").as_str() {
                "retrain" => Severity::Critical,
                "monitor" => Severity::Warning,
                _ => continue,
            };
            out.push(finding(
                sev,
                "model_drift",
                format!("{} drifted (PSI {})", text(t, i, "model"), text(t, i, "psi")),
            ));
        }
    }
    if let Some(t) = section(r, "model_auc_summary") {
        for i in 0..t.rows.len() {
            let drop = -num(t, i, "delta").unwrap_or_default();
            let sev = if drop >= AUC_CRITICAL {
                Severity::Critical
            } else if drop >= AUC_WARNING {
                Severity::Warning
            } else {
                continue;
            };
            let what = format!(
                "{}'s AUC fell from {} to {}",
                text(t, i, "model"),
                text(t, i, "previous_auc"),
                text(t, i, "latest_auc")
            );
            out.push(finding(sev, "model_auc_summary", what));
        }
    }
    if let Some(t) = section(r, "pipeline_runs") {
        let failed = (0..t.rows.len()).filter(|i| text(t, *i, "status") == "failed").count();
        if failed > 0 {
            let sev = if failed * 2 >= t.rows.len() { Severity::Critical } else { Severity::Warning };
            out.push(finding(
                sev,
                "pipeline_runs",
                format!("{failed} of the {} most recent pipeline runs failed", t.rows.len()),
            ));
        }
    }
    if let Some(t) = section(r, "breaker_states") {
        for i in 0..t.rows.len() {
            let sev = match text(t, i, "state").as_str() {
                "open" => Severity::Critical,
                "half_open" => Severity::Warning,
                _ => continue,
            };
            let what =
                format!("circuit breaker {} is {}", text(t, i, "breaker"), text(t, i, "state").replace('_', "-"));
            out.push(finding(sev, "breaker_states", what));
        }
    }
    if let Some(t) = section(r, "decision_pipeline") {
        for i in (0..t.rows.len()).filter(|i| text(t, *i, "flag") == "flagged") {
            let what =
                format!("decision stage {} filters {} of candidates", text(t, i, "stage"), text(t, i, "filter_rate"));
            out.push(finding(Severity::Warning, "decision_pipeline", what));
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// Whether the report has data: a section other than the KPI tiles has a row, or a KPI is not 0.
pub fn has_data(r: &Report) -> bool {
    let kpi_nonzero = r
        .sections
        .iter()
        .filter(|t| t.col("chip").is_some())
        .any(|t| (0..t.rows.len()).any(|i| num(t, i, "value").is_some_and(|v| v != 0.0)));
    kpi_nonzero
        || r.sections.iter().filter(|t| t.col("chip").is_none() && t.col("error").is_none()).any(|t| !t.rows.is_empty())
}

/// A KPI's move against the previous period, in percent: (label, Δ %), or why there is none.
fn kpi_move(r: &Report, key: &str) -> Result<(String, f64), String> {
    let t = r.sections.iter().find(|t| t.col("chip").is_some()).ok_or("this dashboard has no KPIs")?;
    let i = (0..t.rows.len())
        .find(|i| t.cell(*i, "metric").map(|c| c.as_text()).as_deref() == Some(key))
        .ok_or_else(|| format!("the KPI '{key}' is not on this dashboard"))?;
    let label = text(t, i, "label");
    match num(t, i, "delta_pct") {
        Some(d) => Ok((label, d)),
        None => Err(format!("{label} has no previous period to compare with")),
    }
}

/// A template's send condition decided on the report: `Ok(why it sends)` or `Err(why it does
/// not)`, in words a person reads on the run page.
pub fn decide(rule: &SendWhen, r: &Report) -> Result<String, String> {
    match rule.kind {
        SendKind::Always => Ok("sent on every run".into()),
        SendKind::HasData if has_data(r) => Ok("the report has data".into()),
        SendKind::HasData => Err("the report has no data for the period".into()),
        SendKind::Anomaly => {
            let min = rule.min_severity.unwrap_or_default();
            let all = findings(r);
            let hits: Vec<&Finding> = all.iter().filter(|f| f.severity >= min).collect();
            match hits.first() {
                Some(top) => Ok(format!(
                    "{} finding{} of at least {}; the most severe ({}): {}",
                    hits.len(),
                    if hits.len() == 1 { "" } else { "s" },
                    min.as_str(),
                    top.severity.as_str(),
                    top.what
                )),
                None if all.is_empty() => Err(format!("no anomaly or problem of at least {} was found", min.as_str())),
                None => Err(format!(
                    "no anomaly or problem of at least {} was found ({} below it: {})",
                    min.as_str(),
                    all.len(),
                    all.iter().map(|f| f.what.as_str()).collect::<Vec<_>>().join("; ")
                )),
            }
        }
        SendKind::KpiChange => {
            let key = rule.kpi.as_deref().unwrap_or_default();
            let at_least = rule.change_pct.unwrap_or_default().abs();
            let (label, d) = kpi_move(r, key)?;
            if d.abs() >= at_least {
                Ok(format!("{label} moved {d:+.1} % against the previous period (at least ±{at_least} % asked)"))
            } else {
                Err(format!("{label} moved {d:+.1} % against the previous period, less than the ±{at_least} % asked"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cell, Column, ColumnKind, Dashboard, Period, Table};

    fn report(sections: Vec<Table>) -> Report {
        Report {
            title: "t".into(),
            dashboard: Dashboard::Executive,
            tenant: "Acme".into(),
            period: Period::D7,
            from: "2026-11-24".into(),
            to: "2026-11-30".into(),
            timezone: "UTC".into(),
            segment: None,
            generated_at: "2026-11-30T12:00:00Z".into(),
            narrative: None,
            kpis: vec![],
            sections,
            page: Default::default(),
        }
    }

    fn kpis(rows: &[(&str, f64, Option<f64>)]) -> Table {
        let mut t = crate::engine::sources::kpis::table("kpis", "KPIs", vec![]);
        for (key, value, delta) in rows {
            t.push(vec![
                Cell::from(*key),
                Cell::from(key.to_uppercase()),
                Cell::Num(*value),
                Cell::Num(1.0),
                Cell::from(*delta),
                Cell::from("grey"),
                Cell::from("number"),
            ]);
        }
        t
    }

    fn anomalies(severities: &[&str]) -> Table {
        let mut t = Table::new(
            "anomalies",
            "Anomalies",
            ["severity", "metric", "dimension", "delta_pct"]
                .iter()
                .map(|k| Column::new(k, k, if *k == "delta_pct" { ColumnKind::Percent } else { ColumnKind::Text }))
                .collect(),
        );
        for s in severities {
            t.push(vec![
                Cell::from(*s),
                Cell::from("acceptance rate"),
                Cell::from("offer: Cashback Bonus"),
                Cell::Num(-41.0),
            ]);
        }
        t
    }

    #[test]
    fn anomaly_sends_on_a_finding_at_or_above_the_chosen_severity_only() {
        let rule = |min| SendWhen { kind: SendKind::Anomaly, min_severity: Some(min), ..Default::default() };
        let r = report(vec![anomalies(&["warning", "info"])]);
        let why = decide(&rule(Severity::Warning), &r).unwrap();
        assert!(why.contains("1 finding of at least warning") && why.contains("Cashback Bonus"), "{why}");
        let not = decide(&rule(Severity::Critical), &r).unwrap_err();
        assert!(not.starts_with("no anomaly or problem of at least critical was found (2 below it"), "{not}");
        assert!(decide(&rule(Severity::Warning), &report(vec![anomalies(&[])])).is_err(), "an empty feed is no news");
        assert!(decide(&rule(Severity::Critical), &report(vec![anomalies(&["critical"])])).is_ok());
    }

    #[test]
    fn kpi_change_compares_the_move_either_way_with_the_threshold() {
        let rule = |pct| SendWhen {
            kind: SendKind::KpiChange,
            kpi: Some("revenue".into()),
            change_pct: Some(pct),
            ..Default::default()
        };
        let r = report(vec![kpis(&[("revenue", 10.0, Some(-12.5)), ("offers", 3.0, None)])]);
        assert!(decide(&rule(10.0), &r).unwrap().contains("REVENUE moved -12.5 %"));
        assert_eq!(
            decide(&rule(20.0), &r).unwrap_err(),
            "REVENUE moved -12.5 % against the previous period, less than the ±20 % asked"
        );
        let offers = SendWhen { kpi: Some("offers".into()), ..rule(1.0) };
        assert_eq!(decide(&offers, &r).unwrap_err(), "OFFERS has no previous period to compare with");
        let missing = SendWhen { kpi: Some("nope".into()), ..rule(1.0) };
        assert_eq!(decide(&missing, &r).unwrap_err(), "the KPI 'nope' is not on this dashboard");
    }

    #[test]
    fn has_data_needs_a_row_or_a_kpi_that_is_not_zero() {
        let rule = SendWhen { kind: SendKind::HasData, ..Default::default() };
        assert!(decide(&rule, &report(vec![kpis(&[("revenue", 0.0, None)]), anomalies(&[])])).is_err());
        assert!(decide(&rule, &report(vec![kpis(&[("revenue", 5.0, None)])])).is_ok());
        assert!(decide(&rule, &report(vec![anomalies(&["info"])])).is_ok());
        assert!(decide(&SendWhen::default(), &report(vec![])).is_ok(), "always sends, even an empty report");
    }
}
