//! The six dashboards and the periods they can show.

use serde::{Deserialize, Serialize};

/// A dashboard; its key is the last path segment everywhere (URL, API, templates, file names).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dashboard {
    /// Leaders: what changed, in 30 seconds.
    Executive,
    /// Analysts and marketers: offers, channels, funnel.
    Business,
    /// Platform engineers: latency, runs, breakers, DLQ.
    Operations,
    /// Data scientists: AUC, drift, features, experiments.
    ModelHealth,
    /// Data engineers: connectors and pipelines.
    DataHealth,
    /// Growth: credit by channel and offer.
    Attribution,
}

impl Dashboard {
    /// All dashboards in sidebar order.
    pub const ALL: [Dashboard; 6] = [
        Dashboard::Executive,
        Dashboard::Business,
        Dashboard::Operations,
        Dashboard::ModelHealth,
        Dashboard::DataHealth,
        Dashboard::Attribution,
    ];

    /// The stable key (`model-health`, …).
    pub fn key(self) -> &'static str {
        match self {
            Dashboard::Executive => "executive",
            Dashboard::Business => "business",
            Dashboard::Operations => "operations",
            Dashboard::ModelHealth => "model-health",
            Dashboard::DataHealth => "data-health",
            Dashboard::Attribution => "attribution",
        }
    }

    /// The display title.
    pub fn title(self) -> &'static str {
        match self {
            Dashboard::Executive => "Executive",
            Dashboard::Business => "Business",
            Dashboard::Operations => "Operations",
            Dashboard::ModelHealth => "Model Health",
            Dashboard::DataHealth => "Data Health",
            Dashboard::Attribution => "Attribution",
        }
    }

    /// Whether the segment filter applies.
    pub fn supports_segment(self) -> bool {
        matches!(self, Dashboard::Executive | Dashboard::Business | Dashboard::Attribution)
    }

    /// Parses a key.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == key)
    }
}

/// A reporting period ending now.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Period {
    /// Since UTC midnight.
    #[serde(rename = "today")]
    Today,
    /// The last 7 days (default).
    #[default]
    #[serde(rename = "7d")]
    D7,
    /// The last 14 days.
    #[serde(rename = "14d")]
    D14,
    /// The last 30 days.
    #[serde(rename = "30d")]
    D30,
    /// The last 90 days.
    #[serde(rename = "90d")]
    D90,
}

impl Period {
    /// All periods in selector order.
    pub const ALL: [Period; 5] = [Period::Today, Period::D7, Period::D14, Period::D30, Period::D90];

    /// The key used in URLs and the API.
    pub fn key(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::D7 => "7d",
            Period::D14 => "14d",
            Period::D30 => "30d",
            Period::D90 => "90d",
        }
    }

    /// Words for headings ("last 7 days").
    pub fn label(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::D7 => "last 7 days",
            Period::D14 => "last 14 days",
            Period::D30 => "last 30 days",
            Period::D90 => "last 90 days",
        }
    }

    /// Number of days covered (today counts as one).
    pub fn days(self) -> i64 {
        match self {
            Period::Today => 1,
            Period::D7 => 7,
            Period::D14 => 14,
            Period::D30 => 30,
            Period::D90 => 90,
        }
    }

    /// Parses a key.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_match_the_product_paths() {
        let keys: Vec<_> = Dashboard::ALL.iter().map(|d| d.key()).collect();
        assert_eq!(keys, ["executive", "business", "operations", "model-health", "data-health", "attribution"]);
        for d in Dashboard::ALL {
            assert_eq!(Dashboard::parse(d.key()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.key());
        }
        for p in Period::ALL {
            assert_eq!(Period::parse(p.key()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.key());
        }
        assert_eq!(Period::default(), Period::D7);
        assert!(Period::parse("7").is_none());
    }
}

/// How a widget is drawn.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Display {
    /// KPI cards with Δ chips and sparklines.
    Kpis,
    /// The chart, with the table folded below it.
    Chart,
    /// The table only.
    Table,
    /// The anomaly feed.
    Anomalies,
}

/// One widget of a dashboard: a data source and how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WidgetSpec {
    /// The data source key.
    pub source: &'static str,
    /// Grid columns it spans (1–3 of 3).
    pub span: u8,
    /// How it is drawn.
    pub display: Display,
}

const fn w(source: &'static str, span: u8, display: Display) -> WidgetSpec {
    WidgetSpec { source, span, display }
}

impl Dashboard {
    /// The widgets in page order; each is one data source (and one report section).
    pub fn widgets(self) -> &'static [WidgetSpec] {
        match self {
            Dashboard::Executive => EXECUTIVE,
            Dashboard::Business => BUSINESS,
            Dashboard::Operations => OPERATIONS,
            Dashboard::ModelHealth => MODEL_HEALTH,
            Dashboard::DataHealth => DATA_HEALTH,
            Dashboard::Attribution => ATTRIBUTION,
        }
    }
}

const EXECUTIVE: &[WidgetSpec] = &[
    w("kpi_summary", 3, Display::Kpis),
    w("anomalies", 2, Display::Anomalies),
    w("segment_offer_heatmap", 1, Display::Chart),
];
const BUSINESS: &[WidgetSpec] = &[
    w("business_kpis", 3, Display::Kpis),
    w("daily_trend", 2, Display::Chart),
    w("funnel", 1, Display::Chart),
    w("offer_performance", 2, Display::Table),
    w("channel_effectiveness", 1, Display::Chart),
    w("revenue_trend", 2, Display::Chart),
    w("selection_frequency", 1, Display::Chart),
    w("budget_burn", 3, Display::Chart),
];
const OPERATIONS: &[WidgetSpec] = &[
    w("ops_kpis", 3, Display::Kpis),
    w("latency_distribution", 1, Display::Chart),
    w("latency_trend", 2, Display::Chart),
    w("decision_pipeline", 2, Display::Chart),
    w("breaker_states", 1, Display::Table),
    w("acceptance_by_offer", 2, Display::Chart),
    w("dlq_depth", 1, Display::Chart),
];
const MODEL_HEALTH: &[WidgetSpec] = &[
    w("model_auc_trend", 2, Display::Chart),
    w("model_auc_summary", 1, Display::Table),
    w("model_drift", 1, Display::Table),
    w("feature_importance", 2, Display::Chart),
    w("experiments", 3, Display::Table),
];
const DATA_HEALTH: &[WidgetSpec] = &[
    w("data_health_kpis", 3, Display::Kpis),
    w("connector_status", 1, Display::Table),
    w("pipeline_runs", 2, Display::Table),
];
const ATTRIBUTION: &[WidgetSpec] = &[
    w("attribution_by_channel", 2, Display::Chart),
    w("attribution_by_offer", 1, Display::Table),
    w("attribution_comparison", 3, Display::Chart),
];

/// One widget's data or its own error (one failing widget never blanks the page).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetData {
    /// The data source key.
    pub source: String,
    /// The table, when the source succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<crate::model::Table>,
    /// A safe message, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A segment in the filter.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentOption {
    /// Id (the `segmentId` query value).
    pub id: String,
    /// Name.
    pub name: String,
}

/// `GET /api/v1/dashboards/{key}`: everything a dashboard shows.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardData {
    /// The dashboard.
    pub dashboard: Dashboard,
    /// The period.
    pub period: Period,
    /// First day of the window (ISO date).
    pub from: String,
    /// Last day of the window (ISO date, inclusive).
    pub to: String,
    /// Time zone of the dates.
    pub timezone: String,
    /// The segment filter, if any.
    pub segment_id: Option<String>,
    /// The tenant's segments, for the filter.
    pub segments: Vec<SegmentOption>,
    /// When the data was read (RFC 3339).
    pub generated_at: String,
    /// The widgets in page order.
    pub widgets: Vec<WidgetData>,
}

/// The attribution models with their labels, in selector order (default: linear).
pub const ATTRIBUTION_MODELS: [(&str, &str); 5] = [
    ("linear", "Linear"),
    ("last_touch", "Last touch"),
    ("first_touch", "First touch"),
    ("time_decay", "Time decay"),
    ("position_based", "Position based (40/20/40)"),
];
