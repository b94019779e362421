//! The six dashboards and the periods they can show.

use serde::{Deserialize, Serialize};

/// A dashboard; its key is the last path segment everywhere (URL, API, templates, file names).
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
