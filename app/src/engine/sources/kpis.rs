//! KPI tables: one row per metric with its value, the previous period's value, Δ% and chip.
//! The dashboards draw them as cards; reports print them as the KPI table.

use super::common::{delta, Window};
use crate::engine::rollups::DAY_MS;
use crate::model::{Cell, Column, ColumnKind, Table};

/// One KPI.
pub struct Kpi {
    /// Stable key (`revenue`).
    pub key: &'static str,
    /// Label (`Revenue`).
    pub label: &'static str,
    /// How to format the value: `integer`, `percent`, `money`, `number`.
    pub format: &'static str,
    /// This period.
    pub current: f64,
    /// The previous period of equal length (None when the KPI has no comparison).
    pub previous: Option<f64>,
    /// More is worse (Anomalies).
    pub up_is_bad: bool,
    /// Daily values for the sparkline.
    pub spark: Vec<f64>,
}

/// Builds the KPI table.
pub fn table(source: &str, title: &str, kpis: Vec<Kpi>) -> Table {
    let mut t = Table::new(
        source,
        title,
        vec![
            Column::internal("metric", ColumnKind::Text),
            Column::new("label", "Metric", ColumnKind::Text),
            Column::new("value", "Value", ColumnKind::Number),
            Column::new("previous", "Previous period", ColumnKind::Number),
            Column::new("delta_pct", "Δ %", ColumnKind::Percent),
            Column::internal("chip", ColumnKind::Text),
            Column::internal("format", ColumnKind::Text),
        ],
    );
    for k in kpis {
        let (d, chip) = match k.previous {
            Some(p) => delta(k.current, p, k.up_is_bad),
            None => (None, super::common::Chip::Grey),
        };
        t.push(vec![
            Cell::from(k.key),
            Cell::from(k.label),
            Cell::from(k.current),
            Cell::from(k.previous),
            Cell::from(d),
            Cell::from(chip.as_str()),
            Cell::from(k.format),
        ]);
        t.sparklines.push((k.key.to_string(), k.spark));
    }
    t
}

/// The sparkline window: the period's days, at least the last seven.
pub fn spark_window(w: Window) -> Window {
    if w.days() >= 7 {
        w
    } else {
        Window { start: w.end - 7 * DAY_MS, end: w.end }
    }
}
