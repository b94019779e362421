//! The typed table every data source returns and every renderer consumes: columns with key,
//! label, type and unit, rows of cells, an optional chart description and per-metric sparklines.

use super::chart::Chart;
use serde::{Deserialize, Serialize};

/// What a column holds; renderers format by it, CSV writes raw values.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// A whole number.
    Integer,
    /// A decimal number.
    Number,
    /// A percentage, stored as percent points (12.5 means 12.5 %).
    Percent,
    /// Money in currency units (cents / 100).
    Money,
    /// A calendar day, ISO 8601 (`2026-11-30`).
    Date,
    /// An instant, RFC 3339 UTC.
    Timestamp,
    /// A duration in milliseconds.
    Duration,
}

/// One column.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Stable key (`impressions`).
    pub key: String,
    /// Human label (`Impressions`).
    pub label: String,
    /// Type.
    pub kind: ColumnKind,
    /// Unit, if any (`USD`, `ms`, `%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Steers how a row is drawn or names it for machines (a KPI's key, its chip colour, its
    /// number format): the dashboard and every document leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
    /// Decimals a person is shown (a z-score: 1), where the kind's default does not fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
}

impl Column {
    /// A column without unit.
    pub fn new(key: &str, label: &str, kind: ColumnKind) -> Self {
        let unit = match kind {
            ColumnKind::Percent => Some("%".to_string()),
            ColumnKind::Money => Some("USD".to_string()),
            ColumnKind::Duration => Some("ms".to_string()),
            _ => None,
        };
        Column { key: key.into(), label: label.into(), kind, unit, internal: false, decimals: None }
    }

    /// The same column shown with `d` decimals.
    pub fn decimals(self, d: u8) -> Self {
        Column { decimals: Some(d), ..self }
    }

    /// A column no person is shown (see [`Column::internal`]).
    pub fn internal(key: &str, kind: ColumnKind) -> Self {
        Column { internal: true, ..Column::new(key, key, kind) }
    }
}

/// One cell: JSON null, an integer, a number or text (dates and instants are ISO text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// No value (e.g. a rate with no impressions).
    Null,
    /// Integer.
    Int(i64),
    /// Number.
    Num(f64),
    /// Text.
    Text(String),
}

// In the OpenAPI document a cell is one of null, number or string. A derived `oneOf` of its
// variants would be wrong: an integer is also a number, so it would match two of them.
#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Cell {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Null, Type::Number, Type::String]))
            .description(Some("One cell: null, a number (integers included) or text (dates and instants are ISO text)"))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Cell {}

impl Cell {
    /// The numeric value, if any.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The text value, or the number as text.
    pub fn as_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(n) => format!("{n}"),
            Cell::Text(t) => t.clone(),
        }
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        if v.is_finite() {
            Cell::Num(v)
        } else {
            Cell::Null
        }
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        v.map(Cell::from).unwrap_or(Cell::Null)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

/// A data source's result.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The source key (`offer_performance`).
    pub source: String,
    /// Title shown above the widget and the report section.
    pub title: String,
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// How to chart it, if it is charted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<Chart>,
    /// A note under the title (window caps, definitions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Sparklines by metric key (KPI tables).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparklines: Vec<(String, Vec<f64>)>,
}

impl Table {
    /// An empty table with columns.
    pub fn new(source: &str, title: &str, columns: Vec<Column>) -> Self {
        Table {
            source: source.into(),
            title: title.into(),
            columns,
            rows: Vec::new(),
            chart: None,
            note: None,
            sparklines: Vec::new(),
        }
    }

    /// The index of a column key.
    pub fn col(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }

    /// A cell by row and column key.
    pub fn cell(&self, row: usize, key: &str) -> Option<&Cell> {
        self.col(key).and_then(|c| self.rows.get(row).and_then(|r| r.get(c)))
    }

    /// Adds a row (must have one cell per column).
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width of {}", self.source);
        self.rows.push(row);
    }
}

/// Formats a cell for people (thousands separators, units); CSV never uses this.
pub fn format_cell(cell: &Cell, kind: ColumnKind) -> String {
    match (cell, kind) {
        (Cell::Null, _) => "—".into(),
        (Cell::Text(t), _) => t.clone(),
        (c, ColumnKind::Percent) => format!("{:.1} %", c.as_f64().unwrap_or_default()),
        (c, ColumnKind::Money) => format!("${}", group_thousands(c.as_f64().unwrap_or_default(), 2)),
        (c, ColumnKind::Duration) => format!("{} ms", group_thousands(c.as_f64().unwrap_or_default(), 1)),
        (Cell::Int(i), _) => group_thousands(*i as f64, 0),
        (c, ColumnKind::Number) => {
            let v = c.as_f64().unwrap_or_default();
            if v.abs() < 10.0 {
                format!("{v:.3}")
            } else {
                group_thousands(v, 1)
            }
        }
        (c, _) => group_thousands(c.as_f64().unwrap_or_default(), 0),
    }
}

/// The kind a row's own number format names (`percent`, `money`, `duration`, `integer`; anything
/// else is a number).
pub fn kind_of_format(format: &str) -> ColumnKind {
    match format {
        "percent" => ColumnKind::Percent,
        "money" => ColumnKind::Money,
        "duration" => ColumnKind::Duration,
        "integer" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    }
}

/// The row's own number format when its table has one (a `format` column) and `col` is one of the
/// figures it governs (`value`, `previous`, `current`, `baseline`).
pub fn row_format(t: &Table, row: usize, col: usize) -> Option<&str> {
    let c = t.columns.get(col)?;
    match t.cell(row, "format") {
        Some(Cell::Text(f)) if matches!(c.key.as_str(), "value" | "previous" | "current" | "baseline") => Some(f),
        _ => None,
    }
}

/// A cell as a person reads it: by its column's kind, except in a table whose rows each say
/// their own number format (KPI tables: `format` = `integer`, `percent`, `money`, …), where the
/// row's `value` and `previous` follow the row's format — 11 offers, not 11.0.
pub fn display_cell(t: &Table, row: usize, col: usize) -> String {
    let (Some(r), Some(c)) = (t.rows.get(row), t.columns.get(col)) else { return String::new() };
    let cell = r.get(col).unwrap_or(&Cell::Null);
    match (row_format(t, row, col), cell, c.kind) {
        (Some(format), _, _) => format_kpi(cell, format),
        (_, Cell::Int(_) | Cell::Num(_), _) if c.decimals.is_some() => {
            group_thousands(cell.as_f64().unwrap_or_default(), c.decimals.unwrap_or(0) as usize)
        }
        // Documents state instants in UTC, as their period does: "Wed 25 Nov 2026, 08:19 UTC".
        (_, Cell::Text(at), ColumnKind::Timestamp) => match chrono::DateTime::parse_from_rfc3339(at) {
            Ok(when) => when.with_timezone(&chrono::Utc).format("%a %-d %b %Y, %H:%M UTC").to_string(),
            Err(_) => at.clone(),
        },
        _ => format_cell(cell, c.kind),
    }
}

/// The column of long free text (an anomaly's explanation: sentences, not values), if any: a
/// document sets it as a full-width line under its row rather than as a narrow column.
pub fn detail_column(t: &Table) -> Option<usize> {
    let j = t.col("explanation")?;
    (t.columns[j].kind == ColumnKind::Text && !t.columns[j].internal).then_some(j)
}

/// The columns a person is shown, with their indexes.
pub fn shown_columns(t: &Table) -> impl Iterator<Item = (usize, &Column)> {
    t.columns.iter().enumerate().filter(|(_, c)| !c.internal)
}

/// Formats a KPI value by its `format` name (`integer`, `percent`, `money`, `duration`, `number`).
pub fn format_kpi(v: &Cell, format: &str) -> String {
    let kind = kind_of_format(format);
    let v = match (v, kind) {
        (Cell::Num(n), ColumnKind::Integer) => Cell::Int(n.round() as i64),
        (c, _) => c.clone(),
    };
    format_cell(&v, kind)
}

/// `1234567.8` → `1,234,567.80` with `decimals` places.
pub fn group_thousands(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map(|(a, b)| (a.to_string(), Some(b.to_string()))).unwrap_or((s.clone(), None));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    let sign = if v < 0.0 && v.abs() >= 0.5 * 10f64.powi(-(decimals as i32)) { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_reads_means_in_their_rows_unit_and_z_scores_to_one_decimal() {
        let mut t = Table::new(
            "anomalies",
            "Anomalies",
            vec![
                Column::new("current", "Period mean", ColumnKind::Number),
                Column::new("z_score", "z-score", ColumnKind::Number).decimals(1),
                Column::internal("format", ColumnKind::Text),
            ],
        );
        t.push(vec![Cell::Num(6.982), Cell::Num(-3.88), Cell::from("percent")]);
        t.push(vec![Cell::Num(1799.24), Cell::Num(6.48), Cell::from("duration")]);
        assert_eq!(display_cell(&t, 0, 0), "7.0 %");
        assert_eq!(display_cell(&t, 0, 1), "-3.9");
        assert_eq!(display_cell(&t, 1, 0), "1,799.2 ms");
        assert_eq!(display_cell(&t, 1, 1), "6.5");
        assert_eq!(shown_columns(&t).count(), 2, "the format column is nobody's to read");
    }

    #[test]
    fn cells_serialise_as_plain_json_values_and_back() {
        let row = vec![Cell::Null, Cell::Int(3), Cell::Num(2.5), Cell::Text("x".into())];
        let v = serde_json::to_string(&row).unwrap();
        assert_eq!(v, r#"[null,3,2.5,"x"]"#);
        assert_eq!(serde_json::from_str::<Vec<Cell>>(&v).unwrap(), row);
        assert_eq!(Cell::from(f64::NAN), Cell::Null);
    }

    #[test]
    fn people_get_separators_and_units() {
        assert_eq!(format_cell(&Cell::Int(1234567), ColumnKind::Integer), "1,234,567");
        assert_eq!(format_cell(&Cell::Num(1234.5), ColumnKind::Money), "$1,234.50");
        assert_eq!(format_cell(&Cell::Num(12.345), ColumnKind::Percent), "12.3 %");
        assert_eq!(format_cell(&Cell::Num(-0.4), ColumnKind::Integer), "0");
        assert_eq!(group_thousands(-1500.0, 0), "-1,500");
        assert_eq!(format_cell(&Cell::Null, ColumnKind::Percent), "—");
    }
}
