//! The demo tenant's world: its catalogue and the behaviour (rates, budgets, anomalies) the
//! generator draws events from. Ids are derived from the seed, so the same seed gives the same rows.

use super::rng::Rng;
use crate::engine::store::catalogue::{Channel, Offer, Segment};

/// The offer whose acceptance collapses over the last days (an injected anomaly).
pub const ANOMALY_OFFER: &str = "cashback_bonus";
/// The connector that starts failing (an injected anomaly).
pub const FAILING_CONNECTOR: &str = "braze_email";
/// The model whose AUC decays (an injected anomaly).
pub const DECAYING_MODEL: &str = "propensity_xgb";
/// Days of history.
pub const DAYS: i64 = 120;

/// Behaviour of one offer.
#[derive(Debug, Clone)]
pub struct OfferSpec {
    /// The catalogue row.
    pub offer: Offer,
    /// Relative share of impressions.
    pub weight: f64,
    /// Base conversion probability per impression.
    pub conversion: f64,
    /// Mean order value in cents.
    pub value_cents: f64,
    /// Last day index (0 = oldest) on which it is shown (paused or retired offers stop early).
    pub last_day: i64,
}

/// Everything the generator needs.
#[derive(Debug, Clone)]
pub struct World {
    /// Segments with their impression share and conversion multiplier.
    pub segments: Vec<(Segment, f64, f64)>,
    /// Channels with their impression share and conversion multiplier.
    pub channels: Vec<(Channel, f64, f64)>,
    /// Offers.
    pub offers: Vec<OfferSpec>,
    /// Models: (id, key, name, kind).
    pub models: Vec<(String, &'static str, &'static str, &'static str)>,
    /// Connectors: (id, key, name, kind).
    pub connectors: Vec<(String, &'static str, &'static str, &'static str)>,
    /// Pipelines: (id, key, name, connector index).
    pub pipelines: Vec<(String, &'static str, &'static str, usize)>,
    /// Circuit breakers by name.
    pub breakers: Vec<&'static str>,
    /// Number of customers.
    pub customers: u64,
}

fn id(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Builds the world for a seed and a volume scale.
pub fn build(seed: u64, scale: f64) -> World {
    let mut rng = Rng::derive(seed, u64::MAX);
    let segs = [
        ("high_value", "High value", 12_000, 1.0, 1.6),
        ("new_customers", "New customers", 25_000, 1.6, 0.8),
        ("at_risk", "At risk", 8_000, 0.8, 0.6),
        ("young_professionals", "Young professionals", 18_000, 1.3, 1.1),
        ("families", "Families", 21_000, 1.2, 1.0),
        ("students", "Students", 9_000, 0.7, 0.7),
    ];
    let segments = segs
        .iter()
        .map(|(k, n, size, w, m)| {
            let size = ((*size as f64) * scale).round() as i64;
            (Segment { id: id(&mut rng), key: (*k).into(), name: (*n).into(), size }, *w, *m)
        })
        .collect();
    let chans = [
        ("web", "Web", 3.0, 1.0),
        ("email", "Email", 2.2, 1.2),
        ("mobile_push", "Mobile push", 2.0, 0.8),
        ("call_centre", "Call centre", 0.6, 2.2),
        ("sms", "SMS", 0.9, 0.7),
    ];
    let channels = chans
        .iter()
        .map(|(k, n, w, m)| (Channel { id: id(&mut rng), key: (*k).into(), name: (*n).into() }, *w, *m))
        .collect();
    // (key, name, category, status, weight, conversion, value cents, last day)
    type OfferDef = (&'static str, &'static str, &'static str, &'static str, f64, f64, f64, i64);
    let offer_defs: [OfferDef; 12] = [
        ("platinum_card", "Platinum Card", "cards", "active", 1.4, 0.021, 12_000.0, DAYS),
        ("travel_insurance", "Travel Insurance", "insurance", "active", 1.1, 0.018, 8_500.0, DAYS),
        ("home_loan_refi", "Home Loan Refinance", "loans", "active", 0.7, 0.009, 95_000.0, DAYS),
        ("savings_boost", "Savings Boost", "savings", "active", 1.3, 0.026, 4_000.0, DAYS),
        (ANOMALY_OFFER, "Cashback Bonus", "rewards", "active", 1.5, 0.031, 2_500.0, DAYS),
        ("student_account", "Student Account", "accounts", "active", 0.8, 0.024, 1_500.0, DAYS),
        ("family_plan", "Family Plan", "insurance", "active", 1.0, 0.016, 11_000.0, DAYS),
        ("premium_upgrade", "Premium Upgrade", "accounts", "active", 0.9, 0.014, 6_000.0, DAYS),
        ("auto_loan", "Auto Loan", "loans", "active", 0.8, 0.011, 45_000.0, DAYS),
        ("investment_starter", "Investment Starter", "savings", "active", 0.9, 0.012, 20_000.0, DAYS),
        ("loyalty_points", "Loyalty Points x2", "rewards", "paused", 1.0, 0.028, 1_800.0, DAYS - 10),
        ("fee_waiver", "Fee Waiver", "accounts", "retired", 1.0, 0.02, 1_200.0, 60),
    ];
    let offers = offer_defs
        .iter()
        .map(|(k, n, cat, st, w, conv, val, last)| {
            let daily = ((*w * 60_000.0 * scale).round() as i64) * 100;
            OfferSpec {
                offer: Offer {
                    id: id(&mut rng),
                    key: (*k).into(),
                    name: (*n).into(),
                    category: (*cat).into(),
                    status: (*st).into(),
                    daily_budget_cents: daily,
                    lifetime_budget_cents: daily * 150,
                    spent_cents: 0,
                },
                weight: *w,
                conversion: *conv,
                value_cents: *val,
                last_day: *last,
            }
        })
        .collect();
    let models = vec![
        (id(&mut rng), DECAYING_MODEL, "Propensity (XGBoost)", "gradient_boosting"),
        (id(&mut rng), "churn_lr", "Churn (logistic)", "logistic_regression"),
        (id(&mut rng), "uplift_forest", "Uplift forest", "random_forest"),
    ];
    let connectors = vec![
        (id(&mut rng), "salesforce_crm", "Salesforce CRM", "crm"),
        (id(&mut rng), "snowflake_dw", "Snowflake warehouse", "warehouse"),
        (id(&mut rng), "s3_events", "S3 event archive", "object_store"),
        (id(&mut rng), "kafka_stream", "Kafka clickstream", "stream"),
        (id(&mut rng), FAILING_CONNECTOR, "Braze email events", "marketing"),
    ];
    let pipelines = vec![
        (id(&mut rng), "crm_sync", "CRM customer sync", 0),
        (id(&mut rng), "dw_features", "Warehouse feature build", 1),
        (id(&mut rng), "event_archive", "Event archive compaction", 2),
        (id(&mut rng), "clickstream_ingest", "Clickstream ingest", 3),
        (id(&mut rng), "email_engagement", "Email engagement import", 4),
        (id(&mut rng), "segment_refresh", "Segment membership refresh", 1),
    ];
    World {
        segments,
        channels,
        offers,
        models,
        connectors,
        pipelines,
        breakers: vec!["scoring-service", "feature-store", "offer-catalogue", "contact-policy"],
        customers: ((6_000.0 * scale).round() as u64).max(50),
    }
}
