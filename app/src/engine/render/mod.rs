//! Renderers: pure functions from a [`Report`] to the bytes of each format, and the report
//! assembly that turns a dashboard view into a `Report`.

pub mod csv;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod png;
pub mod xlsx;

#[cfg(test)]
mod tests;

use crate::model::table::format_kpi;
use crate::model::{AppError, Cell, KpiLine, Report, Table};
use serde::{Deserialize, Serialize};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// PDF (typst).
    Pdf,
    /// CSV, raw rows.
    Csv,
    /// Markdown summary.
    Md,
    /// Self-contained HTML.
    Html,
    /// An Excel workbook: a Summary sheet, then one typed sheet per section.
    Xlsx,
}

impl ReportFormat {
    /// All formats in menu order.
    pub const ALL: [ReportFormat; 5] =
        [ReportFormat::Pdf, ReportFormat::Csv, ReportFormat::Md, ReportFormat::Html, ReportFormat::Xlsx];

    /// The names a format is asked for by, as an error message lists them.
    pub const NAMES: &'static str = "pdf, csv, md, html or xlsx";

    /// Parses `pdf`, `csv`, `md`/`markdown`, `html`, `xlsx`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pdf" => Some(Self::Pdf),
            "csv" => Some(Self::Csv),
            "md" | "markdown" => Some(Self::Md),
            "html" => Some(Self::Html),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }

    /// The media type sent as Content-Type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Md => "text/markdown; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Csv => "csv",
            Self::Md => "md",
            Self::Html => "html",
            Self::Xlsx => "xlsx",
        }
    }
}

/// Renders a report in one format.
pub fn render(report: &Report, format: ReportFormat) -> Result<Vec<u8>, AppError> {
    match format {
        ReportFormat::Pdf => pdf::render_pdf(report).map_err(|e| super::error::internal("pdf render", e)),
        ReportFormat::Csv => csv::render_csv(report).map_err(|e| super::error::internal("csv render", e)),
        ReportFormat::Md => Ok(markdown::render_markdown(report).into_bytes()),
        ReportFormat::Html => Ok(html::render_html(report).into_bytes()),
        ReportFormat::Xlsx => xlsx::render_xlsx(report).map_err(|e| super::error::internal("xlsx render", e)),
    }
}

/// `<dashboard>-<period>-<YYYY-MM-DD>.<ext>`.
pub fn filename(report: &Report, format: ReportFormat) -> String {
    format!(
        "{}-{}-{}.{}",
        report.dashboard.key(),
        report.period.key(),
        &report.generated_at[..10.min(report.generated_at.len())],
        format.extension()
    )
}

/// Whether a document shows a section under its own heading: the KPI table is the "Key
/// metrics" list at the top already (shown twice, it also leaked its internal columns).
pub fn in_document(t: &Table) -> bool {
    t.col("chip").is_none()
}

/// Longest table a document shows beside its chart; a longer one (a 90-row segment × offer grid,
/// a 90-day daily series) goes to the appendix, the chart being the point.
pub const APPENDIX_ROWS: usize = 30;

/// Whether a section's table goes to the document's appendix.
pub fn in_appendix(t: &Table) -> bool {
    t.chart.is_some() && t.rows.len() > APPENDIX_ROWS
}

/// What a section says where its table was moved to the appendix.
pub fn appendix_note(t: &Table) -> String {
    format!("The {} rows of this table are in the appendix.", t.rows.len())
}

/// The formatted KPI lines of a KPI table (one with a `chip` column).
pub fn kpi_lines(t: &Table) -> Vec<KpiLine> {
    (0..t.rows.len())
        .map(|i| {
            let get = |k: &str| t.cell(i, k).cloned().unwrap_or(Cell::Null);
            let format = get("format").as_text();
            let chip = get("chip").as_text();
            let delta = match (get("delta_pct"), chip.as_str()) {
                (_, "blue") => "New".to_string(),
                (Cell::Null, _) => "—".to_string(),
                (d, _) => format!("{:+.1} %", d.as_f64().unwrap_or_default()),
            };
            KpiLine {
                label: get("label").as_text(),
                value: format_kpi(&get("value"), &format),
                previous: format_kpi(&get("previous"), &format),
                delta,
                chip: if chip.is_empty() { "grey".into() } else { chip },
                spark: t
                    .sparklines
                    .iter()
                    .find(|(k, _)| *k == get("metric").as_text())
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            }
        })
        .collect()
}
