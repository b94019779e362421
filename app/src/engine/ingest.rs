//! Ingest: batches of interactions or decisions for one tenant (JSON array or NDJSON over the
//! API, CSV from the CLI). Every row is validated first; a batch with any bad row is refused
//! whole with one error per bad row. A good batch is written — raw rows, touchpoints and rollups
//! — in one transaction, so the dashboards never see half a batch.

use super::db::{bulk_insert, get_i64, get_str, Db, Val};
use super::rollups::{Outcome, RollupBatch, Touch, DAY_MS};
use crate::model::{AppError, ErrorCode, FieldError};
use serde::Deserialize;
use std::collections::HashMap;

/// Largest batch accepted.
pub const MAX_ROWS: usize = 200_000;
/// How far in the future a timestamp may be (clock skew).
pub const MAX_FUTURE_MS: i64 = 5 * 60_000;
/// Conversions are credited to the customer's touchpoints of the previous 30 days.
pub const LOOKBACK_MS: i64 = 30 * DAY_MS;
/// At most this many row errors are listed.
pub const MAX_ERRORS: usize = 500;

/// One interaction as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InteractionRow {
    /// RFC 3339 instant.
    pub ts: String,
    /// The customer (kept on the server; never sent to AI providers).
    pub customer_id: String,
    /// Offer key.
    pub offer: String,
    /// Channel key.
    pub channel: String,
    /// Segment key.
    pub segment: String,
    /// Outcome name.
    pub outcome: String,
    /// Value in cents, conversions only.
    #[serde(default)]
    pub value_cents: Option<i64>,
}

/// One decision as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionRow {
    /// RFC 3339 instant.
    pub ts: String,
    /// Segment key.
    pub segment: String,
    /// Channel key.
    pub channel: String,
    /// Total latency.
    pub latency_ms: f64,
    /// Candidates at [initial, afterQualification, afterSuppression, afterContactPolicy, afterScoring].
    pub funnel: Vec<i64>,
    /// Scoring ran degraded.
    #[serde(default)]
    pub degraded_scoring: bool,
    /// Selected offer key, if any.
    #[serde(default)]
    pub selected_offer: Option<String>,
}

/// Splits a body into rows: a JSON array, or one JSON object per line (NDJSON).
pub fn parse_rows<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, AppError> {
    parse_rows_capped(body, MAX_ROWS)
}

/// [`parse_rows`] with a row cap. Rows are counted while the body is parsed, one at a time, each
/// turned into its typed row at once: a batch over the cap is refused as soon as the cap is
/// passed, without reading the rest or ever holding the whole batch as JSON values.
pub fn parse_rows_capped<T: serde::de::DeserializeOwned>(body: &[u8], cap: usize) -> Result<Vec<T>, AppError> {
    let text = std::str::from_utf8(body).map_err(|_| AppError::new(ErrorCode::BadRequest, "the body is not UTF-8"))?;
    let too_many = || AppError::invalid("rows", format!("at most {cap} rows per batch"));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let mut de = serde_json::Deserializer::from_str(trimmed);
        let visitor = RowsVisitor::<T> { cap, rows: &mut rows, errors: &mut errors, _t: std::marker::PhantomData };
        match serde::Deserializer::deserialize_seq(&mut de, visitor) {
            Ok(()) => de.end().map_err(|e| AppError::new(ErrorCode::BadRequest, format!("malformed JSON: {e}")))?,
            Err(e) if e.to_string().starts_with(TOO_MANY) => return Err(too_many()),
            Err(e) => return Err(AppError::new(ErrorCode::BadRequest, format!("malformed JSON: {e}"))),
        }
    } else {
        for (n, (i, line)) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).enumerate() {
            if n == cap {
                return Err(too_many());
            }
            match serde_json::from_str::<serde_json::Value>(line) {
                Err(e) => {
                    return Err(AppError::new(ErrorCode::BadRequest, format!("line {}: malformed JSON: {e}", i + 1)))
                }
                Ok(v) => match serde_json::from_value::<T>(v) {
                    Ok(r) => rows.push(r),
                    Err(e) => push_err(&mut errors, n, "row", e.to_string()),
                },
            }
        }
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(AppError::invalid("rows", "the batch is empty"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(refuse(errors))
    }
}

const TOO_MANY: &str = "narrate: too many rows";

/// Reads a JSON array element by element into typed rows (or per-row errors), stopping past the cap.
struct RowsVisitor<'a, T> {
    cap: usize,
    rows: &'a mut Vec<T>,
    errors: &'a mut Vec<FieldError>,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: serde::de::DeserializeOwned> serde::de::Visitor<'de> for RowsVisitor<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            if i == self.cap {
                return Err(serde::de::Error::custom(TOO_MANY));
            }
            match serde_json::from_value::<T>(v) {
                Ok(r) => self.rows.push(r),
                Err(e) => push_err(self.errors, i, "row", e.to_string()),
            }
            i += 1;
        }
        Ok(())
    }
}

fn push_err(errors: &mut Vec<FieldError>, row: usize, field: &str, message: impl Into<String>) {
    if errors.len() < MAX_ERRORS {
        errors.push(FieldError { field: format!("rows[{row}].{field}"), message: message.into() });
    }
}

fn refuse(errors: Vec<FieldError>) -> AppError {
    let n = errors.len();
    let mut e = AppError::validation(errors);
    e.message = format!(
        "the batch was refused: {n}{} invalid row field(s); nothing was written",
        if n >= MAX_ERRORS { "+" } else { "" }
    );
    e
}

/// The tenant's catalogue keys → ids.
struct Keys {
    offers: HashMap<String, String>,
    channels: HashMap<String, String>,
    segments: HashMap<String, String>,
}

async fn keys(db: &Db, tenant_id: &str) -> Result<Keys, AppError> {
    let load = |table: &'static str| async move {
        let sql = format!("SELECT id, key FROM {table} WHERE tenant_id = $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(&db.pool).await?;
        Ok::<_, AppError>(rows.iter().map(|r| (get_str(r, "key"), get_str(r, "id"))).collect::<HashMap<_, _>>())
    };
    Ok(Keys { offers: load("offers").await?, channels: load("channels").await?, segments: load("segments").await? })
}

fn parse_ts(s: &str, now: i64) -> Result<i64, String> {
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|_| format!("'{s}' is not an RFC 3339 timestamp"))?
        .timestamp_millis();
    if t > now + MAX_FUTURE_MS {
        Err(format!("'{s}' is in the future"))
    } else {
        Ok(t)
    }
}

fn lookup<'a>(
    map: &'a HashMap<String, String>,
    key: &str,
    what: &str,
    i: usize,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a String> {
    let found = map.get(key);
    if found.is_none() {
        push_err(errors, i, field, format!("unknown {what} '{key}'"));
    }
    found
}

struct Interaction {
    ts: i64,
    customer: String,
    offer: String,
    channel: String,
    segment: String,
    outcome: Outcome,
    value: i64,
}

/// Validates and writes interactions; returns how many were accepted.
pub async fn interactions(db: &Db, tenant_id: &str, rows: Vec<InteractionRow>, now: i64) -> Result<usize, AppError> {
    let k = keys(db, tenant_id).await?;
    let mut errors = Vec::new();
    let mut good = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let ts = parse_ts(&r.ts, now).map_err(|m| push_err(&mut errors, i, "ts", m)).ok();
        if r.customer_id.trim().is_empty() || r.customer_id.len() > 128 {
            push_err(&mut errors, i, "customerId", "required, at most 128 characters");
        }
        let offer = lookup(&k.offers, &r.offer, "offer", i, "offer", &mut errors);
        let channel = lookup(&k.channels, &r.channel, "channel", i, "channel", &mut errors);
        let segment = lookup(&k.segments, &r.segment, "segment", i, "segment", &mut errors);
        let outcome = Outcome::parse(&r.outcome);
        if outcome.is_none() {
            push_err(
                &mut errors,
                i,
                "outcome",
                format!("'{}' is not one of impression, click, conversion, dismiss, opt_out, complaint", r.outcome),
            );
        }
        let value = match (outcome, r.value_cents) {
            (_, Some(v)) if v < 0 => {
                push_err(&mut errors, i, "valueCents", "must not be negative");
                0
            }
            (Some(Outcome::Conversion), v) => v.unwrap_or(0),
            (Some(_), Some(v)) if v != 0 => {
                push_err(&mut errors, i, "valueCents", "only conversions carry a value");
                0
            }
            _ => 0,
        };
        if let (Some(ts), Some(o), Some(c), Some(s), Some(out)) = (ts, offer, channel, segment, outcome) {
            good.push(Interaction {
                ts,
                customer: r.customer_id.clone(),
                offer: o.clone(),
                channel: c.clone(),
                segment: s.clone(),
                outcome: out,
                value,
            });
        }
    }
    if !errors.is_empty() {
        return Err(refuse(errors));
    }
    write_interactions(db, tenant_id, good).await
}

async fn write_interactions(db: &Db, tenant_id: &str, rows: Vec<Interaction>) -> Result<usize, AppError> {
    let n = rows.len();
    let mut tx = db.pool.begin().await?;
    let t = || Val::S(tenant_id.to_string());
    let mut batch = RollupBatch::default();
    let raw: Vec<Vec<Val>> = rows
        .iter()
        .map(|r| {
            batch.interaction(r.ts, &r.offer, &r.channel, &r.segment, r.outcome, r.value);
            vec![
                t(),
                Val::I(r.ts),
                Val::S(r.customer.clone()),
                Val::S(r.offer.clone()),
                Val::S(r.channel.clone()),
                Val::S(r.segment.clone()),
                Val::S(r.outcome.as_str().into()),
                Val::I(r.value),
            ]
        })
        .collect();
    bulk_insert(
        &mut tx,
        "INSERT INTO interactions (tenant_id, ts, customer_id, offer_id, channel_id, segment_id, outcome, value_cents)",
        "",
        &raw,
    )
    .await?;
    // Clicks and conversions are touchpoints; conversions are credited to the customer's path.
    let touches: Vec<&Interaction> =
        rows.iter().filter(|r| matches!(r.outcome, Outcome::Click | Outcome::Conversion)).collect();
    let tp: Vec<Vec<Val>> = touches
        .iter()
        .map(|r| {
            vec![t(), Val::S(r.customer.clone()), Val::S(r.channel.clone()), Val::S(r.offer.clone()), Val::I(r.ts)]
        })
        .collect();
    bulk_insert(&mut tx, "INSERT INTO touchpoints (tenant_id, customer_id, channel_id, offer_id, ts)", "", &tp).await?;
    let conversions: Vec<&Interaction> = rows.iter().filter(|r| r.outcome == Outcome::Conversion).collect();
    if !conversions.is_empty() {
        let paths = touch_history(&mut tx, tenant_id, &conversions).await?;
        for c in conversions {
            let mut path: Vec<Touch> = paths
                .get(&c.customer)
                .map(|v| v.iter().filter(|t| t.ts <= c.ts && t.ts > c.ts - LOOKBACK_MS).cloned().collect())
                .unwrap_or_default();
            path.sort_by_key(|t| t.ts);
            if path.is_empty() {
                path.push(Touch { ts: c.ts, channel_id: c.channel.clone(), offer_id: c.offer.clone() });
            }
            batch.conversion_path(c.ts, &c.segment, &path, c.value);
        }
    }
    batch.apply(&mut tx, tenant_id).await?;
    let spent: HashMap<&str, i64> =
        rows.iter().filter(|r| r.outcome == Outcome::Conversion).fold(HashMap::new(), |mut m, r| {
            *m.entry(r.offer.as_str()).or_default() += r.value / 20;
            m
        });
    for (offer, cents) in spent {
        sqlx::query("UPDATE offers SET spent_cents = spent_cents + $1 WHERE id = $2 AND tenant_id = $3")
            .bind(cents)
            .bind(offer)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// The touchpoints (this batch's included, as they were just inserted) of converting customers.
async fn touch_history(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    conversions: &[&Interaction],
) -> Result<HashMap<String, Vec<Touch>>, AppError> {
    let mut customers: Vec<&str> = conversions.iter().map(|c| c.customer.as_str()).collect();
    customers.sort_unstable();
    customers.dedup();
    let since = conversions.iter().map(|c| c.ts).min().unwrap_or(0) - LOOKBACK_MS;
    let mut out: HashMap<String, Vec<Touch>> = HashMap::new();
    for chunk in customers.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT customer_id, channel_id, offer_id, ts FROM touchpoints WHERE tenant_id = $1 AND ts >= $2 AND customer_id IN ({})",
            placeholders.join(",")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(since);
        for c in chunk {
            q = q.bind(*c);
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.entry(get_str(&r, "customer_id")).or_default().push(Touch {
                ts: get_i64(&r, "ts"),
                channel_id: get_str(&r, "channel_id"),
                offer_id: get_str(&r, "offer_id"),
            });
        }
    }
    Ok(out)
}

/// Validates and writes decisions; returns how many were accepted.
pub async fn decisions(db: &Db, tenant_id: &str, rows: Vec<DecisionRow>, now: i64) -> Result<usize, AppError> {
    let k = keys(db, tenant_id).await?;
    let mut errors = Vec::new();
    let mut good = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let ts = parse_ts(&r.ts, now).map_err(|m| push_err(&mut errors, i, "ts", m)).ok();
        let segment = lookup(&k.segments, &r.segment, "segment", i, "segment", &mut errors);
        let channel = lookup(&k.channels, &r.channel, "channel", i, "channel", &mut errors);
        let selected = match &r.selected_offer {
            Some(o) => lookup(&k.offers, o, "offer", i, "selectedOffer", &mut errors).map(|s| Some(s.clone())),
            None => Some(None),
        };
        if !(r.latency_ms.is_finite() && r.latency_ms >= 0.0) {
            push_err(&mut errors, i, "latencyMs", "must be a non-negative number");
        }
        let funnel: Option<[i64; 5]> = r.funnel.clone().try_into().ok();
        match funnel {
            None => push_err(&mut errors, i, "funnel", "five candidate counts: initial, afterQualification, afterSuppression, afterContactPolicy, afterScoring"),
            Some(f) if f.iter().any(|v| *v < 0) || f.windows(2).any(|w| w[1] > w[0]) => {
                push_err(&mut errors, i, "funnel", "counts must be non-negative and never grow from one stage to the next")
            }
            _ => {}
        }
        if let (Some(ts), Some(s), Some(c), Some(sel), Some(f)) = (ts, segment, channel, selected, funnel) {
            good.push((ts, s.clone(), c.clone(), r.latency_ms, f, r.degraded_scoring, sel));
        }
    }
    if !errors.is_empty() {
        return Err(refuse(errors));
    }
    let n = good.len();
    let mut tx = db.pool.begin().await?;
    let mut batch = RollupBatch::default();
    let t = || Val::S(tenant_id.to_string());
    let raw: Vec<Vec<Val>> = good
        .iter()
        .map(|(ts, s, c, l, f, d, sel)| {
            batch.decision(*ts, s, c, *l, *f, *d, sel.as_deref());
            let mut r = vec![t(), Val::I(*ts), Val::S(s.clone()), Val::S(c.clone()), Val::F(*l)];
            r.extend(f.iter().map(|v| Val::I(*v)));
            r.push(Val::I(i64::from(*d)));
            r.push(Val::OptS(sel.clone()));
            r
        })
        .collect();
    bulk_insert(
        &mut tx,
        "INSERT INTO decisions (tenant_id, ts, segment_id, channel_id, latency_ms, funnel_initial, funnel_qualified, \
         funnel_unsuppressed, funnel_contactable, funnel_scored, degraded, selected_offer_id)",
        "",
        &raw,
    )
    .await?;
    batch.apply(&mut tx, tenant_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// Reads interactions from CSV with the header `ts,customer_id,offer,channel,segment,outcome,value_cents`.
pub fn interactions_from_csv(text: &str) -> Result<Vec<InteractionRow>, AppError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> =
        lines.next().unwrap_or_default().split(',').map(|h| h.trim().to_ascii_lowercase()).collect();
    let want = ["ts", "customer_id", "offer", "channel", "segment", "outcome", "value_cents"];
    let idx: Vec<Option<usize>> = want.iter().map(|w| header.iter().position(|h| h == w)).collect();
    if idx[..6].iter().any(Option::is_none) {
        return Err(AppError::invalid("header", format!("the CSV header must name {}", want.join(","))));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let get =
            |k: usize| idx[k].and_then(|j| cells.get(j)).map(|s| s.trim_matches('"').to_string()).unwrap_or_default();
        let value = get(6);
        let value_cents = if value.is_empty() {
            None
        } else {
            match value.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    push_err(&mut errors, i, "value_cents", format!("'{value}' is not a whole number"));
                    None
                }
            }
        };
        rows.push(InteractionRow {
            ts: get(0),
            customer_id: get(1),
            offer: get(2),
            channel: get(3),
            segment: get(4),
            outcome: get(5),
            value_cents,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(refuse(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Row {
        #[allow(dead_code)]
        n: i64,
    }

    #[test]
    fn a_batch_over_the_cap_is_refused_as_soon_as_the_cap_is_passed() {
        // Four rows against a cap of three, then bytes that are not JSON at all: the refusal names
        // the cap, not the garbage, so parsing stopped at the fourth row.
        let array = br#"[{"n":1},{"n":2},{"n":3},{"n":4}, this is not JSON"#;
        let e = parse_rows_capped::<Row>(array, 3).unwrap_err();
        assert_eq!((e.status, e.details[0].field.as_str()), (422, "rows"));
        assert!(e.message.contains("at most 3 rows"), "{}", e.message);
        let ndjson = b"{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\nthis is not JSON\n";
        let e = parse_rows_capped::<Row>(ndjson, 3).unwrap_err();
        assert!(e.message.contains("at most 3 rows"), "{}", e.message);
    }

    #[test]
    fn rows_within_the_cap_parse_and_bad_rows_are_listed_by_index() {
        assert_eq!(parse_rows_capped::<Row>(br#"[{"n":1},{"n":2}]"#, 3).unwrap().len(), 2);
        let e = parse_rows_capped::<Row>(br#"[{"n":1},{"n":"two"},{"x":3}]"#, 3).unwrap_err();
        let fields: Vec<&str> = e.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["rows[1].row", "rows[2].row"]);
        assert_eq!(parse_rows_capped::<Row>(b"[]", 3).unwrap_err().status, 422, "an empty batch");
        assert_eq!(parse_rows_capped::<Row>(b"[{\"n\":1}] trailing", 3).unwrap_err().status, 400);
    }
}
