//! The day-by-day event generator: a pure function of (world, seed, day) so days are independent,
//! reproducible, and can be streamed into the database without holding 120 days in memory.

use super::rng::Rng;
use super::world::{World, ANOMALY_OFFER, DAYS, DECAYING_MODEL, FAILING_CONNECTOR};
use crate::engine::rollups::{Outcome, Touch, DAY_MS};

/// One interaction row.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// When.
    pub ts: i64,
    /// Customer id (never leaves the server in aggregates).
    pub customer_id: String,
    /// Offer index in the world.
    pub offer: usize,
    /// Channel index.
    pub channel: usize,
    /// Segment index.
    pub segment: usize,
    /// Outcome.
    pub outcome: Outcome,
    /// Value in cents (conversions only).
    pub value_cents: i64,
}

/// One decision row.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// When.
    pub ts: i64,
    /// Segment index.
    pub segment: usize,
    /// Channel index.
    pub channel: usize,
    /// Total latency.
    pub latency_ms: f64,
    /// Candidates at the five funnel stages.
    pub funnel: [i64; 5],
    /// Scoring ran degraded.
    pub degraded: bool,
    /// Selected offer index, if any.
    pub selected_offer: Option<usize>,
}

/// A converting customer's path (touchpoints, oldest first, ending with the converting touch).
#[derive(Debug, Clone)]
pub struct ConversionPath {
    /// Conversion time.
    pub ts: i64,
    /// Customer.
    pub customer_id: String,
    /// Segment index.
    pub segment: usize,
    /// Value in cents.
    pub value_cents: i64,
    /// (ts, channel index, offer index).
    pub touches: Vec<(i64, usize, usize)>,
}

/// One pipeline run: (pipeline index, start, end, status, rows in, rows out, error).
pub type PipelineRun = (usize, i64, i64, &'static str, i64, i64, Option<String>);

/// Everything generated for one day.
#[derive(Debug, Clone, Default)]
pub struct Day {
    /// Day index, 0 = oldest.
    pub index: i64,
    /// UTC midnight of the day.
    pub start: i64,
    /// Interactions.
    pub interactions: Vec<Interaction>,
    /// Decisions.
    pub decisions: Vec<Decision>,
    /// Conversion paths (attribution).
    pub paths: Vec<ConversionPath>,
    /// (model index, auc, psi, ks, feature importance JSON).
    pub evaluations: Vec<(usize, f64, f64, f64, String)>,
    /// The day's pipeline runs.
    pub pipeline_runs: Vec<PipelineRun>,
    /// (ts, status, latency ms).
    pub flow_runs: Vec<(i64, &'static str, f64)>,
    /// (breaker index, state, ts).
    pub breaker_events: Vec<(usize, &'static str, i64)>,
    /// (ts, depth).
    pub dlq: Vec<(i64, i64)>,
}

/// Weekly seasonality: weekends are quieter. `day_start` is a UTC midnight.
fn weekly(day_start: i64) -> f64 {
    // 1970-01-01 was a Thursday: weekday 0 = Thursday.
    match (day_start / DAY_MS).rem_euclid(7) {
        2 => 0.74, // Saturday
        3 => 0.68, // Sunday
        _ => 1.0,
    }
}

/// Generates day `index` (0 = `end_day - 119 days`), dropping events after `now`.
pub fn day(world: &World, seed: u64, scale: f64, end_day: i64, index: i64, now: i64) -> Day {
    let start = end_day - (DAYS - 1 - index) * DAY_MS;
    let mut rng = Rng::derive(seed, index as u64);
    let days_left = DAYS - 1 - index; // 0 on the last day
    let trend = 1.0 + 0.15 * index as f64 / DAYS as f64;
    let level = weekly(start) * trend * (1.0 + 0.08 * rng.normal()).clamp(0.75, 1.25);
    let mut d = Day { index, start, ..Day::default() };
    let ts_in_day = |rng: &mut Rng| start + rng.below(DAY_MS as u64) as i64;

    let seg_w: Vec<f64> = world.segments.iter().map(|s| s.1).collect();
    let ch_w: Vec<f64> = world.channels.iter().map(|c| c.1).collect();
    let offer_w: Vec<f64> = world.offers.iter().map(|o| if index <= o.last_day { o.weight } else { 0.0 }).collect();

    let impressions = (950.0 * scale * level).round() as u64;
    for _ in 0..impressions {
        let ts = ts_in_day(&mut rng);
        let (s, c, o) = (rng.weighted(&seg_w), rng.weighted(&ch_w), rng.weighted(&offer_w));
        let customer_id = format!("c{:07}", rng.below(world.customers));
        let spec = &world.offers[o];
        let mut p_conv = spec.conversion * world.segments[s].2 * world.channels[c].2;
        if spec.offer.key == ANOMALY_OFFER && days_left < 4 {
            p_conv *= 0.22;
        }
        let p_click = (p_conv * 3.2).min(0.6);
        let mk = |ts: i64, outcome: Outcome, value_cents: i64| Interaction {
            ts,
            customer_id: customer_id.clone(),
            offer: o,
            channel: c,
            segment: s,
            outcome,
            value_cents,
        };
        d.interactions.push(mk(ts, Outcome::Impression, 0));
        let r = rng.f64();
        if r < p_click {
            let click_ts = ts + 1_000 + rng.below(600_000) as i64;
            d.interactions.push(mk(click_ts, Outcome::Click, 0));
            if rng.f64() < p_conv / p_click {
                let conv_ts = click_ts + 60_000 + rng.below(3_600_000) as i64;
                let value = (spec.value_cents * (0.35 * rng.normal()).exp()).round().max(100.0) as i64;
                d.interactions.push(mk(conv_ts, Outcome::Conversion, value));
                let earlier = rng.below(4) as usize;
                let mut touches: Vec<(i64, usize, usize)> = (0..earlier)
                    .map(|_| {
                        let back = 1 + rng.below(10 * DAY_MS as u64 - 1) as i64;
                        (click_ts - back, rng.weighted(&ch_w), if rng.chance(0.6) { o } else { rng.weighted(&offer_w) })
                    })
                    .collect();
                touches.sort_by_key(|t| t.0);
                touches.push((click_ts, c, o));
                d.paths.push(ConversionPath {
                    ts: conv_ts,
                    customer_id: customer_id.clone(),
                    segment: s,
                    value_cents: value,
                    touches,
                });
            }
        } else if r < p_click + 0.12 {
            d.interactions.push(mk(ts + 2_000 + rng.below(120_000) as i64, Outcome::Dismiss, 0));
        } else if r < p_click + 0.124 {
            d.interactions.push(mk(ts + 2_000, Outcome::OptOut, 0));
        } else if r < p_click + 0.125 {
            d.interactions.push(mk(ts + 5_000, Outcome::Complaint, 0));
        }
    }

    let decisions = (700.0 * scale * level).round() as u64;
    let degraded_rate = if days_left == 9 { 0.12 } else { 0.015 };
    for _ in 0..decisions {
        let ts = ts_in_day(&mut rng);
        let latency_ms = (38.0f64.ln() + 0.45 * rng.normal()).exp() + if rng.chance(0.01) { 250.0 } else { 0.0 };
        let initial = 30 + rng.below(40) as i64;
        let qualified = (initial as f64 * (0.62 + 0.15 * rng.f64())).round() as i64;
        let unsuppressed = (qualified as f64 * (0.80 + 0.12 * rng.f64())).round() as i64;
        let contactable = (unsuppressed as f64 * (0.70 + 0.2 * rng.f64())).round() as i64;
        let scored = (contactable as f64 * (0.55 + 0.3 * rng.f64())).round() as i64;
        let selected = if rng.chance(0.86) { Some(rng.weighted(&offer_w)) } else { None };
        d.decisions.push(Decision {
            ts,
            segment: rng.weighted(&seg_w),
            channel: rng.weighted(&ch_w),
            latency_ms: (latency_ms * 100.0).round() / 100.0,
            funnel: [initial, qualified, unsuppressed, contactable, scored],
            degraded: rng.chance(degraded_rate),
            selected_offer: selected,
        });
    }

    for (m, (_, key, _, _)) in world.models.iter().enumerate() {
        let (auc, psi) = if *key == DECAYING_MODEL && days_left < 30 {
            let k = (30 - days_left) as f64 / 30.0;
            (0.83 - 0.12 * k + 0.004 * rng.normal(), 0.05 + 0.27 * k + 0.01 * rng.f64())
        } else {
            let base = [0.83, 0.77, 0.71][m.min(2)];
            (base + 0.004 * rng.normal(), 0.03 + 0.03 * rng.f64())
        };
        let ks = (auc - 0.5) * 1.1 + 0.01 * rng.normal();
        let fi = serde_json::json!({
            "tenure_months": 0.24 + 0.01 * rng.normal(),
            "balance_trend": 0.19 + 0.01 * rng.normal(),
            "recent_logins": 0.16 + 0.01 * rng.normal(),
            "channel_affinity": 0.14 + 0.01 * rng.normal(),
            "age_band": 0.09 + 0.005 * rng.normal(),
            "product_count": 0.08 + 0.005 * rng.normal(),
        });
        d.evaluations.push((m, round4(auc), round4(psi), round4(ks), fi.to_string()));
    }

    for (p, (_, _, _, conn)) in world.pipelines.iter().enumerate() {
        for slot in 0..4 {
            let begin = start + slot * 6 * 3_600_000 + rng.below(600_000) as i64;
            let failing = world.connectors[*conn].1 == FAILING_CONNECTOR && days_left < 3;
            let ok = !failing && rng.chance(0.985);
            let rows_in = ((20_000.0 + 8_000.0 * rng.f64()) * scale) as i64;
            let (status, rows_out, err) = if ok {
                ("succeeded", (rows_in as f64 * (0.97 + 0.03 * rng.f64())) as i64, None)
            } else if failing {
                ("failed", 0, Some("401 Unauthorized from connector: API credentials were rejected".to_string()))
            } else {
                ("failed", rows_in / 3, Some("timed out after 900 s waiting for the warehouse".to_string()))
            };
            let end = begin + 60_000 + rng.below(900_000) as i64;
            d.pipeline_runs.push((p, begin, end, status, rows_in, rows_out, err));
        }
    }

    for h in 0..24 {
        let ts = start + h * 3_600_000 + rng.below(300_000) as i64;
        let status = if rng.chance(0.97) { "completed" } else { "failed" };
        d.flow_runs.push((ts, status, ((1_800.0 + 600.0 * rng.normal()).max(400.0) * 10.0).round() / 10.0));
        let backlog = if days_left < 3 { 40 + (3 - days_left) * 60 + h * 4 } else { 0 };
        d.dlq.push((start + h * 3_600_000, (12.0 + 6.0 * rng.f64()) as i64 + backlog));
    }

    for (b, _) in world.breakers.iter().enumerate() {
        if rng.chance(0.12) || (b == 1 && days_left == 1) {
            let ts = ts_in_day(&mut rng);
            d.breaker_events.push((b, "open", ts));
            d.breaker_events.push((b, "half_open", ts + 60_000 + rng.below(600_000) as i64));
            if !(b == 1 && days_left == 1) {
                d.breaker_events.push((b, "closed", ts + 900_000 + rng.below(600_000) as i64));
            }
        }
    }

    d.interactions.retain(|i| i.ts <= now);
    d.decisions.retain(|i| i.ts <= now);
    d.paths.retain(|p| p.ts <= now);
    d.flow_runs.retain(|f| f.0 <= now);
    d.dlq.retain(|x| x.0 <= now);
    d.breaker_events.retain(|x| x.2 <= now);
    d.pipeline_runs.retain(|x| x.2 <= now);
    if d.evaluations.iter().any(|_| start > now) {
        d.evaluations.clear();
    }
    d
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The path of a conversion in the rollup's terms.
pub fn touches(world: &World, p: &ConversionPath) -> Vec<Touch> {
    p.touches
        .iter()
        .map(|(ts, c, o)| Touch {
            ts: *ts,
            channel_id: world.channels[*c].0.id.clone(),
            offer_id: world.offers[*o].offer.id.clone(),
        })
        .collect()
}
