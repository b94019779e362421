//! The `Report` document: what every renderer (PDF, CSV, Markdown, HTML) and every delivery
//! consumes. Assembled from a dashboard's data sources for a period and segment, plus the
//! narrative. Renderers are pure functions of this value.

use super::{Dashboard, Period, Table};
use serde::{Deserialize, Serialize};

/// One paragraph of narrative about one section.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionNarrative {
    /// The section's source key.
    pub id: String,
    /// The paragraph.
    pub paragraph: String,
}

/// The narrative of a report (PRODUCT §10).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Narrative {
    /// At most 120 words.
    pub executive_summary: String,
    /// Per-section paragraphs.
    #[serde(default)]
    pub sections: Vec<SectionNarrative>,
    /// Three to five takeaways.
    pub key_takeaways: Vec<String>,
    /// `builtin`, `openai`, `anthropic`, `gemini`, `bedrock`.
    pub provider: String,
    /// The model, when a provider was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Whether the built-in narrator replaced a failed provider.
    #[serde(default)]
    pub fallback: bool,
    /// Why it fell back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

impl Narrative {
    /// Who wrote it, in words ("Written by the built-in narrator …").
    pub fn attribution(&self) -> String {
        match (self.provider.as_str(), self.fallback) {
            (_, true) => format!(
                "Written by the built-in narrator because the AI provider failed: {}",
                self.fallback_reason.as_deref().unwrap_or("unknown reason")
            ),
            ("builtin", false) => "Written by the built-in narrator from the numbers in this report.".into(),
            (p, false) => format!(
                "Written by {p}{} from the numbers in this report.",
                self.model.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
            ),
        }
    }
}

/// A KPI line of the report's KPI table, already formatted for people.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiLine {
    /// Metric label.
    pub label: String,
    /// This period, formatted.
    pub value: String,
    /// Previous period, formatted ("—" when none).
    pub previous: String,
    /// Δ, formatted ("+3.2 %", "New", "—").
    pub delta: String,
    /// Chip colour: green, red, grey, blue.
    pub chip: String,
    /// Daily values for the sparkline (none when the dashboard has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spark: Vec<f64>,
}

/// Paper size of the PDF and of the HTML when printed.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaperSize {
    /// ISO A4, 210 × 297 mm (the default).
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

/// Which way up the page is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// Taller than wide (the default).
    #[default]
    Portrait,
    /// Wider than tall: wide tables and long daily charts.
    Landscape,
}

/// Page setup of a template or a one-off export (default A4 portrait).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSetup {
    /// `a4` or `letter`.
    #[serde(default)]
    pub size: PaperSize,
    /// `portrait` or `landscape`.
    #[serde(default)]
    pub orientation: Orientation,
}

impl PageSetup {
    /// Typst's paper name.
    pub fn typst_paper(self) -> &'static str {
        match self.size {
            PaperSize::A4 => "a4",
            PaperSize::Letter => "us-letter",
        }
    }

    /// CSS `@page { size: … }`.
    pub fn css_size(self) -> String {
        let size = match self.size {
            PaperSize::A4 => "A4",
            PaperSize::Letter => "letter",
        };
        let orientation = match self.orientation {
            Orientation::Portrait => "portrait",
            Orientation::Landscape => "landscape",
        };
        format!("{size} {orientation}")
    }

    /// "A4 portrait", "Letter landscape".
    pub fn label(self) -> &'static str {
        match (self.size, self.orientation) {
            (PaperSize::A4, Orientation::Portrait) => "A4 portrait",
            (PaperSize::A4, Orientation::Landscape) => "A4 landscape",
            (PaperSize::Letter, Orientation::Portrait) => "Letter portrait",
            (PaperSize::Letter, Orientation::Landscape) => "Letter landscape",
        }
    }

    /// Whether the page is wider than tall.
    pub fn landscape(self) -> bool {
        self.orientation == Orientation::Landscape
    }
}

/// A report document.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Title, e.g. "Executive report" or a saved report's name.
    pub title: String,
    /// The dashboard it was made from.
    pub dashboard: Dashboard,
    /// The tenant's display name.
    pub tenant: String,
    /// The period.
    pub period: Period,
    /// First day (ISO date).
    pub from: String,
    /// Last day (ISO date, inclusive).
    pub to: String,
    /// Time zone of the dates.
    pub timezone: String,
    /// The segment's name, when filtered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// RFC 3339 UTC.
    pub generated_at: String,
    /// The narrative, when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<Narrative>,
    /// The KPI table (from the dashboard's KPI widget, if it has one).
    #[serde(default)]
    pub kpis: Vec<KpiLine>,
    /// Every section (one per widget), with its chart description.
    pub sections: Vec<Table>,
    /// Paper and orientation of the PDF and the printed HTML.
    #[serde(default)]
    pub page: PageSetup,
}

impl Report {
    /// "2026-11-24 to 2026-11-30 (UTC)".
    pub fn period_text(&self) -> String {
        format!("{} to {} ({})", self.from, self.to, self.timezone)
    }
}
