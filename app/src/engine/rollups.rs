//! Rollups: per-day aggregates the dashboards read, so a dashboard's cost grows with days and
//! dimensions, never with raw event count. Every loader (demo, ingest, CSV import) feeds events
//! into a [`RollupBatch`] and applies it in the same transaction as the raw rows; applying adds to
//! existing rows (`ON CONFLICT … DO UPDATE SET x = x + excluded.x`), so batches compose.

use super::db::{bulk_insert, Val};
use std::collections::HashMap;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// UTC midnight (epoch ms) of the day containing `ts`.
pub fn day_of(ts: i64) -> i64 {
    ts.div_euclid(DAY_MS) * DAY_MS
}

/// An interaction outcome (PRODUCT §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The offer was shown.
    Impression,
    /// Clicked (positive).
    Click,
    /// Converted, with a value (positive).
    Conversion,
    /// Dismissed (negative).
    Dismiss,
    /// Opted out (negative).
    OptOut,
    /// Complained (negative).
    Complaint,
}

impl Outcome {
    /// Every outcome, in column order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Impression,
        Outcome::Click,
        Outcome::Conversion,
        Outcome::Dismiss,
        Outcome::OptOut,
        Outcome::Complaint,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Impression => "impression",
            Outcome::Click => "click",
            Outcome::Conversion => "conversion",
            Outcome::Dismiss => "dismiss",
            Outcome::OptOut => "opt_out",
            Outcome::Complaint => "complaint",
        }
    }

    /// Parses a stored or sent name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// The attribution models (PRODUCT §3, Attribution).
pub const ATTRIBUTION_MODELS: [&str; 5] = ["last_touch", "first_touch", "linear", "time_decay", "position_based"];

/// Half-life of the time-decay model.
pub const TIME_DECAY_HALF_LIFE_MS: i64 = 7 * DAY_MS;

/// Credit fractions of each touchpoint (ordered oldest first) under `model`; they sum to 1.
pub fn attribution_weights(model: &str, touch_ts: &[i64], conversion_ts: i64) -> Vec<f64> {
    let n = touch_ts.len();
    if n == 0 {
        return Vec::new();
    }
    let mut w = vec![0.0; n];
    match model {
        "last_touch" => w[n - 1] = 1.0,
        "first_touch" => w[0] = 1.0,
        "time_decay" => {
            for (i, ts) in touch_ts.iter().enumerate() {
                let age = (conversion_ts - ts).max(0) as f64;
                w[i] = 0.5f64.powf(age / TIME_DECAY_HALF_LIFE_MS as f64);
            }
            let sum: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= sum);
        }
        "position_based" => match n {
            1 => w[0] = 1.0,
            2 => {
                w[0] = 0.5;
                w[1] = 0.5;
            }
            _ => {
                w[0] = 0.4;
                w[n - 1] = 0.4;
                let mid = 0.2 / (n - 2) as f64;
                w[1..n - 1].iter_mut().for_each(|x| *x = mid);
            }
        },
        _ => w.iter_mut().for_each(|x| *x = 1.0 / n as f64),
    }
    w
}

/// One touchpoint on a converting customer's path.
#[derive(Debug, Clone)]
pub struct Touch {
    /// When.
    pub ts: i64,
    /// Channel id.
    pub channel_id: String,
    /// Offer id.
    pub offer_id: String,
}

#[derive(Default, Clone, Copy)]
struct DecisionAgg {
    decisions: i64,
    latency_sum: f64,
    funnel: [i64; 5],
    degraded: i64,
}

type InterKey = (i64, String, String, String);
type AttrKey = (i64, &'static str, String, String, String);

/// Accumulated rollup deltas for one tenant, applied in one go.
#[derive(Default)]
pub struct RollupBatch {
    interactions: HashMap<InterKey, [i64; 7]>,
    decisions: HashMap<(i64, String, String), DecisionAgg>,
    latency: HashMap<(i64, i64), i64>,
    selections: HashMap<(i64, String, String), i64>,
    attribution: HashMap<AttrKey, (i64, f64, f64)>,
}

/// The latency histogram bucket of `ms`: buckets grow by 5 %, so percentiles are exact to ±2.5 %.
pub fn latency_bucket(ms: f64) -> i64 {
    (ms.max(1.0).ln() / 1.05f64.ln()).floor() as i64
}

/// A representative latency (geometric middle) of a bucket.
pub fn bucket_value(bucket: i64) -> f64 {
    1.05f64.powf(bucket as f64 + 0.5)
}

impl RollupBatch {
    /// Adds one interaction.
    pub fn interaction(
        &mut self,
        ts: i64,
        offer: &str,
        channel: &str,
        segment: &str,
        outcome: Outcome,
        value_cents: i64,
    ) {
        let e = self.interactions.entry((day_of(ts), offer.into(), channel.into(), segment.into())).or_default();
        e[outcome.index()] += 1;
        if outcome == Outcome::Conversion {
            e[6] += value_cents;
        }
    }

    /// Adds one decision.
    #[allow(clippy::too_many_arguments)] // the decision event's fields, as ingest and the demo have them
    pub fn decision(
        &mut self,
        ts: i64,
        segment: &str,
        channel: &str,
        latency_ms: f64,
        funnel: [i64; 5],
        degraded: bool,
        selected: Option<&str>,
    ) {
        let day = day_of(ts);
        if let Some(offer) = selected {
            *self.selections.entry((day, segment.into(), offer.into())).or_default() += 1;
        }
        let e = self.decisions.entry((day, segment.into(), channel.into())).or_default();
        e.decisions += 1;
        e.latency_sum += latency_ms;
        for (acc, v) in e.funnel.iter_mut().zip(funnel) {
            *acc += v;
        }
        e.degraded += i64::from(degraded);
        *self.latency.entry((day, latency_bucket(latency_ms))).or_default() += 1;
    }

    /// Credits a conversion of `value_cents` at `ts` to its path under every model.
    pub fn conversion_path(&mut self, ts: i64, segment: &str, path: &[Touch], value_cents: i64) {
        let day = day_of(ts);
        let times: Vec<i64> = path.iter().map(|t| t.ts).collect();
        for model in ATTRIBUTION_MODELS {
            for (touch, w) in path.iter().zip(attribution_weights(model, &times, ts)) {
                let e = self
                    .attribution
                    .entry((day, model, touch.channel_id.clone(), touch.offer_id.clone(), segment.into()))
                    .or_default();
                e.0 += 1;
                e.1 += w;
                e.2 += w * value_cents as f64;
            }
        }
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.interactions.is_empty() && self.decisions.is_empty() && self.attribution.is_empty()
    }

    /// Adds the batch to the rollup tables of `tenant_id` (inside the caller's transaction).
    pub async fn apply(self, conn: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<(), sqlx::Error> {
        let t = || Val::S(tenant_id.to_string());
        // Every day this batch touches gets a new version, in the same transaction: the dashboards'
        // day cache (`sources::daily`) re-reads exactly those days.
        let days: std::collections::BTreeSet<i64> = self
            .interactions
            .keys()
            .map(|k| k.0)
            .chain(self.decisions.keys().map(|k| k.0))
            .chain(self.latency.keys().map(|k| k.0))
            .chain(self.selections.keys().map(|k| k.0))
            .chain(self.attribution.keys().map(|k| k.0))
            .collect();
        let rows: Vec<Vec<Val>> = days.into_iter().map(|d| vec![t(), Val::I(d), Val::I(1)]).collect();
        bulk_insert(
            conn,
            "INSERT INTO rollup_days (tenant_id, day, version)",
            "ON CONFLICT (tenant_id, day) DO UPDATE SET version = rollup_days.version + 1",
            &rows,
        )
        .await?;
        let rows: Vec<Vec<Val>> = self
            .interactions
            .into_iter()
            .map(|((day, o, c, s), v)| {
                let mut r = vec![t(), Val::I(day), Val::S(o), Val::S(c), Val::S(s)];
                r.extend(v.iter().map(|x| Val::I(*x)));
                r
            })
            .collect();
        bulk_insert(
            conn,
            "INSERT INTO rollup_interactions_daily (tenant_id, day, offer_id, channel_id, segment_id, impressions, \
             clicks, conversions, dismissals, opt_outs, complaints, revenue_cents)",
            "ON CONFLICT (tenant_id, day, offer_id, channel_id, segment_id) DO UPDATE SET \
             impressions = rollup_interactions_daily.impressions + excluded.impressions, \
             clicks = rollup_interactions_daily.clicks + excluded.clicks, \
             conversions = rollup_interactions_daily.conversions + excluded.conversions, \
             dismissals = rollup_interactions_daily.dismissals + excluded.dismissals, \
             opt_outs = rollup_interactions_daily.opt_outs + excluded.opt_outs, \
             complaints = rollup_interactions_daily.complaints + excluded.complaints, \
             revenue_cents = rollup_interactions_daily.revenue_cents + excluded.revenue_cents",
            &rows,
        )
        .await?;
        let rows: Vec<Vec<Val>> = self
            .decisions
            .into_iter()
            .map(|((day, s, c), a)| {
                let mut r = vec![t(), Val::I(day), Val::S(s), Val::S(c), Val::I(a.decisions), Val::F(a.latency_sum)];
                r.extend(a.funnel.iter().map(|x| Val::I(*x)));
                r.push(Val::I(a.degraded));
                r
            })
            .collect();
        bulk_insert(
            conn,
            "INSERT INTO rollup_decisions_daily (tenant_id, day, segment_id, channel_id, decisions, latency_sum_ms, \
             funnel_initial, funnel_qualified, funnel_unsuppressed, funnel_contactable, funnel_scored, degraded)",
            "ON CONFLICT (tenant_id, day, segment_id, channel_id) DO UPDATE SET \
             decisions = rollup_decisions_daily.decisions + excluded.decisions, \
             latency_sum_ms = rollup_decisions_daily.latency_sum_ms + excluded.latency_sum_ms, \
             funnel_initial = rollup_decisions_daily.funnel_initial + excluded.funnel_initial, \
             funnel_qualified = rollup_decisions_daily.funnel_qualified + excluded.funnel_qualified, \
             funnel_unsuppressed = rollup_decisions_daily.funnel_unsuppressed + excluded.funnel_unsuppressed, \
             funnel_contactable = rollup_decisions_daily.funnel_contactable + excluded.funnel_contactable, \
             funnel_scored = rollup_decisions_daily.funnel_scored + excluded.funnel_scored, \
             degraded = rollup_decisions_daily.degraded + excluded.degraded",
            &rows,
        )
        .await?;
        let rows: Vec<Vec<Val>> =
            self.latency.into_iter().map(|((day, b), n)| vec![t(), Val::I(day), Val::I(b), Val::I(n)]).collect();
        bulk_insert(
            conn,
            "INSERT INTO rollup_latency_daily (tenant_id, day, bucket, count)",
            "ON CONFLICT (tenant_id, day, bucket) DO UPDATE SET count = rollup_latency_daily.count + excluded.count",
            &rows,
        )
        .await?;
        let rows: Vec<Vec<Val>> = self
            .selections
            .into_iter()
            .map(|((day, s, o), n)| vec![t(), Val::I(day), Val::S(s), Val::S(o), Val::I(n)])
            .collect();
        bulk_insert(
            conn,
            "INSERT INTO rollup_selection_daily (tenant_id, day, segment_id, offer_id, selections)",
            "ON CONFLICT (tenant_id, day, segment_id, offer_id) DO UPDATE SET \
             selections = rollup_selection_daily.selections + excluded.selections",
            &rows,
        )
        .await?;
        let rows: Vec<Vec<Val>> = self
            .attribution
            .into_iter()
            .map(|((day, m, c, o, s), (n, credit, value))| {
                vec![
                    t(),
                    Val::I(day),
                    Val::S(m.into()),
                    Val::S(c),
                    Val::S(o),
                    Val::S(s),
                    Val::I(n),
                    Val::F(credit),
                    Val::F(value),
                ]
            })
            .collect();
        bulk_insert(
            conn,
            "INSERT INTO rollup_attribution_daily (tenant_id, day, model, channel_id, offer_id, segment_id, \
             touchpoints, credit, credited_value_cents)",
            "ON CONFLICT (tenant_id, day, model, channel_id, offer_id, segment_id) DO UPDATE SET \
             touchpoints = rollup_attribution_daily.touchpoints + excluded.touchpoints, \
             credit = rollup_attribution_daily.credit + excluded.credit, \
             credited_value_cents = rollup_attribution_daily.credited_value_cents + excluded.credited_value_cents",
            &rows,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_splits_a_conversion_into_credits_that_sum_to_one() {
        let ts = [0, 2 * DAY_MS, 5 * DAY_MS, 6 * DAY_MS];
        for m in ATTRIBUTION_MODELS {
            let w = attribution_weights(m, &ts, 7 * DAY_MS);
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{m}");
        }
        assert_eq!(attribution_weights("last_touch", &ts, 0), vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(attribution_weights("first_touch", &ts, 0), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(attribution_weights("position_based", &ts, 0), vec![0.4, 0.1, 0.1, 0.4]);
        assert_eq!(attribution_weights("linear", &ts, 0), vec![0.25; 4]);
    }

    #[test]
    fn time_decay_halves_credit_every_seven_days() {
        let w = attribution_weights("time_decay", &[0, 7 * DAY_MS], 7 * DAY_MS);
        assert!((w[1] / w[0] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn latency_buckets_are_within_five_percent() {
        for ms in [1.0, 12.0, 87.5, 240.0, 1999.0] {
            let v = bucket_value(latency_bucket(ms));
            assert!((v / ms - 1.0).abs() < 0.05, "{ms} -> {v}");
        }
    }

    #[test]
    fn days_are_utc_midnights() {
        assert_eq!(day_of(DAY_MS + 5), DAY_MS);
        assert_eq!(day_of(-1), -DAY_MS);
    }
}
