//! What every data source shares: the request context, the period window and its predecessor,
//! Δ% with its chip colour, and the rollup queries most sources are built from.

use super::daily;
use crate::engine::db::{get_str, Db};
use crate::engine::rollups::DAY_MS;
use crate::model::{AppError, Period};
use std::collections::{BTreeMap, HashMap};

/// The inputs of a data source: (tenant, period, segment, params) and now.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The database.
    pub db: &'a Db,
    /// The tenant every query is scoped by.
    pub tenant_id: &'a str,
    /// The period on screen.
    pub period: Period,
    /// The segment filter (already checked to belong to the tenant).
    pub segment_id: Option<&'a str>,
    /// Now, epoch ms.
    pub now: i64,
    /// Source-specific parameters (`groupBy`, `model`, …).
    pub params: &'a BTreeMap<String, String>,
    /// Rollup sums already read while loading this dashboard (several widgets need the same ones).
    pub memo: &'a Memo,
}

/// Interaction sums read during one dashboard load, by grouping and window. Lives for one load
/// only, so it never serves stale numbers.
#[derive(Default)]
pub struct Memo {
    sums: std::sync::Mutex<HashMap<MemoKey, HashMap<String, Agg>>>,
    /// Day results already validated during this load (a day's version is checked once per load).
    pub(super) days: std::sync::Mutex<HashMap<SeenKey, std::sync::Arc<Vec<daily::Row>>>>,
}

/// Query shape, filters, day.
type SeenKey = (&'static str, String, i64);

/// A grouping and a window `[start, end)`.
type MemoKey = (By, i64, i64);

/// A half-open range of whole UTC days `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day (UTC midnight, epoch ms).
    pub start: i64,
    /// The day after the last (exclusive).
    pub end: i64,
}

impl Window {
    /// Number of days.
    pub fn days(&self) -> i64 {
        (self.end - self.start) / DAY_MS
    }

    /// The window of equal length immediately before.
    pub fn previous(&self) -> Window {
        Window { start: self.start - (self.end - self.start), end: self.start }
    }

    /// The day starts in the window.
    pub fn day_starts(&self) -> Vec<i64> {
        (0..self.days()).map(|i| self.start + i * DAY_MS).collect()
    }
}

/// The window of a period ending today (UTC): `today` is today so far, `7d` today and the six
/// days before, and so on.
pub fn window(period: Period, now: i64) -> Window {
    let end = crate::engine::rollups::day_of(now) + DAY_MS;
    Window { start: end - period.days() * DAY_MS, end }
}

impl Ctx<'_> {
    /// The period's window.
    pub fn window(&self) -> Window {
        window(self.period, self.now)
    }

    /// A parameter or its default.
    pub fn param(&self, key: &str, default: &str) -> String {
        self.params.get(key).cloned().unwrap_or_else(|| default.to_string())
    }
}

/// The colour of a Δ% chip (PRODUCT §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chip {
    /// Better than before.
    Green,
    /// Worse than before.
    Red,
    /// Within 0.05 % of before.
    Grey,
    /// No baseline (previous value 0).
    New,
}

impl Chip {
    /// The stored name, used as a CSS class by the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Chip::Green => "green",
            Chip::Red => "red",
            Chip::Grey => "grey",
            Chip::New => "blue",
        }
    }
}

/// Δ% = (current − previous) / |previous| × 100, and its chip. `up_is_bad` inverts the colours
/// (Anomalies). No Δ when the previous value is 0: the chip says "New" (or grey when both are 0).
pub fn delta(current: f64, previous: f64, up_is_bad: bool) -> (Option<f64>, Chip) {
    if previous == 0.0 {
        return (None, if current == 0.0 { Chip::Grey } else { Chip::New });
    }
    let d = (current - previous) / previous.abs() * 100.0;
    let chip = if d.abs() < 0.05 {
        Chip::Grey
    } else if (d > 0.0) != up_is_bad {
        Chip::Green
    } else {
        Chip::Red
    };
    (Some((d * 10.0).round() / 10.0), chip)
}

/// Sums of the interaction rollup.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Agg {
    /// Impressions.
    pub impressions: i64,
    /// Clicks.
    pub clicks: i64,
    /// Conversions.
    pub conversions: i64,
    /// Dismissals.
    pub dismissals: i64,
    /// Opt-outs.
    pub opt_outs: i64,
    /// Complaints.
    pub complaints: i64,
    /// Revenue in cents.
    pub revenue_cents: i64,
}

impl Agg {
    /// Positive outcomes: clicks and conversions.
    pub fn positives(&self) -> i64 {
        self.clicks + self.conversions
    }
    /// Negative outcomes: dismissals, opt-outs, complaints.
    pub fn negatives(&self) -> i64 {
        self.dismissals + self.opt_outs + self.complaints
    }
    /// Acceptance rate in percent (positives / impressions), None without impressions.
    pub fn acceptance_pct(&self) -> Option<f64> {
        ratio_pct(self.positives(), self.impressions)
    }
    /// Conversion rate in percent (conversions / impressions).
    pub fn conversion_pct(&self) -> Option<f64> {
        ratio_pct(self.conversions, self.impressions)
    }
    /// Revenue in currency units.
    pub fn revenue(&self) -> f64 {
        self.revenue_cents as f64 / 100.0
    }
}

/// `a / b × 100`, None when `b` is 0.
pub fn ratio_pct(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64 * 100.0)
}

/// A dimension the interaction rollup can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum By {
    /// Everything in one group (key "").
    All,
    /// Per day (key = day ms as text).
    Day,
    /// Per offer id.
    Offer,
    /// Per channel id.
    Channel,
    /// Per segment id.
    Segment,
    /// Per (day, offer id) — key "day|offer".
    DayOffer,
    /// Per (day, channel id).
    DayChannel,
    /// Per (segment, offer).
    SegmentOffer,
}

impl By {
    /// The per-day query behind this grouping (its columns besides `day`).
    fn spec(self) -> &'static daily::Spec {
        const SUMS: &[&str] =
            &["impressions", "clicks", "conversions", "dismissals", "opt_outs", "complaints", "revenue_cents"];
        const fn spec(id: &'static str, group: &'static [&'static str]) -> daily::Spec {
            daily::Spec { id, table: "rollup_interactions_daily", group, sums: SUMS }
        }
        static TOTAL: daily::Spec = spec("interactions", &[]);
        static OFFER: daily::Spec = spec("interactions/offer", &["offer_id"]);
        static CHANNEL: daily::Spec = spec("interactions/channel", &["channel_id"]);
        static SEGMENT: daily::Spec = spec("interactions/segment", &["segment_id"]);
        static SEGMENT_OFFER: daily::Spec = spec("interactions/segment,offer", &["segment_id", "offer_id"]);
        match self {
            By::All | By::Day => &TOTAL,
            By::Offer | By::DayOffer => &OFFER,
            By::Channel | By::DayChannel => &CHANNEL,
            By::Segment => &SEGMENT,
            By::SegmentOffer => &SEGMENT_OFFER,
        }
    }

    fn per_day(self) -> bool {
        matches!(self, By::Day | By::DayOffer | By::DayChannel)
    }
}

/// The `column = value` filter of the segment on screen, if any.
pub fn segment_filter(ctx: &Ctx<'_>) -> Vec<(&'static str, String)> {
    ctx.segment_id.map(|s| vec![("segment_id", s.to_string())]).unwrap_or_default()
}

/// Interaction sums over a window, grouped, honouring the segment filter. Keys: the group's
/// values joined with `|`, led by the day (epoch ms) for per-day groupings; `""` for `By::All`.
pub async fn interactions(ctx: &Ctx<'_>, w: Window, by: By) -> Result<HashMap<String, Agg>, AppError> {
    let memo_key = (by, w.start, w.end);
    if let Some(hit) = ctx.memo.sums.lock().expect("memo lock").get(&memo_key) {
        return Ok(hit.clone());
    }
    let mut out: HashMap<String, Agg> = HashMap::new();
    for (day, rows) in daily::fetch(ctx, by.spec(), w, &segment_filter(ctx)).await? {
        for row in rows.iter() {
            let mut parts = Vec::with_capacity(3);
            if by.per_day() {
                parts.push(day.to_string());
            }
            parts.extend(row.keys.iter().cloned());
            let e = out.entry(parts.join("|")).or_default();
            let n = |i: usize| row.sums[i].round() as i64;
            e.impressions += n(0);
            e.clicks += n(1);
            e.conversions += n(2);
            e.dismissals += n(3);
            e.opt_outs += n(4);
            e.complaints += n(5);
            e.revenue_cents += n(6);
        }
    }
    ctx.memo.sums.lock().expect("memo lock").insert(memo_key, out.clone());
    Ok(out)
}

/// Sums of the decision rollup for one group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecisionAgg {
    /// Decisions made.
    pub decisions: i64,
    /// Sum of latencies (ms).
    pub latency_sum_ms: f64,
    /// Candidate sums at the five funnel stages.
    pub funnel: [i64; 5],
    /// Decisions with degraded scoring.
    pub degraded: i64,
}

/// Decision sums over a window per day (key: day ms) or in total (key 0), honouring the segment.
pub async fn decisions(ctx: &Ctx<'_>, w: Window, per_day: bool) -> Result<BTreeMap<i64, DecisionAgg>, AppError> {
    static SPEC: daily::Spec = daily::Spec {
        id: "decisions",
        table: "rollup_decisions_daily",
        group: &[],
        sums: &[
            "decisions",
            "latency_sum_ms",
            "funnel_initial",
            "funnel_qualified",
            "funnel_unsuppressed",
            "funnel_contactable",
            "funnel_scored",
            "degraded",
        ],
    };
    let mut out: BTreeMap<i64, DecisionAgg> = BTreeMap::new();
    if !per_day {
        out.insert(0, DecisionAgg::default());
    }
    for (day, rows) in daily::fetch(ctx, &SPEC, w, &segment_filter(ctx)).await? {
        for row in rows.iter() {
            let e = out.entry(if per_day { day } else { 0 }).or_default();
            let n = |i: usize| row.sums[i].round() as i64;
            e.decisions += n(0);
            e.latency_sum_ms += row.sums[1];
            for (k, f) in e.funnel.iter_mut().enumerate() {
                *f += n(2 + k);
            }
            e.degraded += n(7);
        }
    }
    Ok(out)
}

/// Merged latency histogram over a window: day → bucket → count.
pub async fn latency_histogram(ctx: &Ctx<'_>, w: Window) -> Result<BTreeMap<i64, BTreeMap<i64, i64>>, AppError> {
    static SPEC: daily::Spec =
        daily::Spec { id: "latency", table: "rollup_latency_daily", group: &["bucket"], sums: &["count"] };
    let mut out: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
    for (day, rows) in daily::fetch(ctx, &SPEC, w, &[]).await? {
        for row in rows.iter() {
            if let Ok(bucket) = row.keys[0].parse::<i64>() {
                *out.entry(day).or_default().entry(bucket).or_default() += row.sums[0].round() as i64;
            }
        }
    }
    Ok(out)
}

/// The `q`-quantile (0–1) of a histogram, as the bucket's representative latency.
pub fn quantile(hist: &BTreeMap<i64, i64>, q: f64) -> Option<f64> {
    let total: i64 = hist.values().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (b, n) in hist {
        seen += n;
        if seen >= rank {
            return Some((crate::engine::rollups::bucket_value(*b) * 10.0).round() / 10.0);
        }
    }
    None
}

/// Id → name for a catalogue table (`offers`, `channels`, `segments`, `models`).
pub async fn names(ctx: &Ctx<'_>, table: &str) -> Result<HashMap<String, String>, AppError> {
    debug_assert!(["offers", "channels", "segments", "models", "pipelines", "connectors"].contains(&table));
    let sql = format!("SELECT id, name FROM {table} WHERE tenant_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ctx.tenant_id).fetch_all(&ctx.db.pool).await?;
    Ok(rows.iter().map(|r| (get_str(r, "id"), get_str(r, "name"))).collect())
}

/// ISO date of a day start.
pub fn iso_day(day_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day_ms).map(|d| d.date_naive().to_string()).unwrap_or_default()
}

/// RFC 3339 (UTC, seconds) of an instant.
pub fn iso_instant(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Rounds to `places` decimals.
pub fn round(v: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (v * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_chips_follow_the_product_rules() {
        assert_eq!(delta(110.0, 100.0, false), (Some(10.0), Chip::Green));
        assert_eq!(delta(90.0, 100.0, false), (Some(-10.0), Chip::Red));
        assert_eq!(delta(100.04, 100.0, false), (Some(0.0), Chip::Grey), "within 0.05 % is flat");
        assert_eq!(delta(5.0, 0.0, false), (None, Chip::New));
        assert_eq!(delta(0.0, 0.0, false), (None, Chip::Grey));
        assert_eq!(delta(6.0, 3.0, true), (Some(100.0), Chip::Red), "more anomalies is bad");
        assert_eq!(delta(2.0, 3.0, true), (Some(-33.3), Chip::Green));
    }

    #[test]
    fn windows_end_today_and_the_previous_one_has_equal_length() {
        let now = 10 * DAY_MS + 3_600_000;
        let w = window(Period::D7, now);
        assert_eq!((w.start, w.end, w.days()), (4 * DAY_MS, 11 * DAY_MS, 7));
        assert_eq!(w.previous(), Window { start: -3 * DAY_MS, end: 4 * DAY_MS });
        assert_eq!(window(Period::Today, now).days(), 1);
    }

    #[test]
    fn quantiles_come_from_the_merged_histogram() {
        let mut h = BTreeMap::new();
        h.insert(crate::engine::rollups::latency_bucket(10.0), 90);
        h.insert(crate::engine::rollups::latency_bucket(200.0), 10);
        assert!((quantile(&h, 0.5).unwrap() - 10.0).abs() < 0.5);
        assert!((quantile(&h, 0.95).unwrap() - 200.0).abs() < 10.0);
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
    }
}
