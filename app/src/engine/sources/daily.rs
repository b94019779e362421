//! The rollup day cache: per-day grouped sums of a rollup table, kept in process and checked,
//! day by day, against `rollup_days.version` before every use.
//!
//! Why: a dashboard covers whole UTC days, and a past day's rollup rows rarely change. Every
//! rollup write (`RollupBatch::apply`) bumps the version of each day it touched, in the same
//! transaction, so a load reads the versions of its window (one short primary-key range), serves
//! the unchanged days from memory and queries only the changed ones — usually just today. A
//! dashboard's cost then grows with its days and dimensions, not with raw events nor with the
//! rollup rows behind each day. The versions live in the database, so several replicas, the CLI
//! and ingest on another server invalidate each other's caches correctly; a load can at worst read
//! rows newer than the version it cached them under, which only makes the next load re-read them.

use super::common::{Ctx, Window};
use crate::engine::db::{get_f64, get_i64, get_str};
use crate::model::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One grouped query over a rollup table: `SELECT day, group…, SUM(…)… GROUP BY day, group…`.
pub struct Spec {
    /// Unique name of this query shape (part of the cache key).
    pub id: &'static str,
    /// The rollup table.
    pub table: &'static str,
    /// Grouping columns besides `day`.
    pub group: &'static [&'static str],
    /// Columns summed.
    pub sums: &'static [&'static str],
}

/// One group of one day: the grouping values (as text) and the sums (in `Spec::sums` order).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Grouping values.
    pub keys: Vec<String>,
    /// Sums; integer columns are exact (below 2^53).
    pub sums: Vec<f64>,
}

/// Tenant, query shape, filters, day.
type Key = (String, &'static str, String, i64);
/// The day's version when read, and its rows.
type Cached = (i64, Arc<Vec<Row>>);

/// Cached day results with the day's version when they were read. Bounded: when it holds more
/// than `MAX_ENTRIES` days it starts afresh (a day is cheap to read again).
#[derive(Default)]
pub struct DayCache {
    map: Mutex<HashMap<Key, Cached>>,
    /// How many warm-ups (`sources::warm`) have finished.
    warmups: std::sync::atomic::AtomicU64,
}

pub(crate) const MAX_ENTRIES: usize = 200_000;

impl DayCache {
    /// Forgets everything (benchmarks measure cold loads with it).
    pub fn clear(&self) {
        self.map.lock().expect("day cache lock").clear();
    }

    /// How many tenant × query × day results it holds.
    pub fn len(&self) -> usize {
        self.map.lock().expect("day cache lock").len()
    }

    /// How many warm-ups (`sources::warm`) have finished in this process.
    pub fn warmups(&self) -> u64 {
        self.warmups.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn warmed(&self) {
        self.warmups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for DayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("DayCache").field("days", &n).finish()
    }
}

/// The sums of `spec` for every day of `w` (in day order), with `filters` (`column = value`)
/// applied; days without rows come back empty.
pub async fn fetch(
    ctx: &Ctx<'_>,
    spec: &Spec,
    w: Window,
    filters: &[(&'static str, String)],
) -> Result<Vec<(i64, Arc<Vec<Row>>)>, AppError> {
    let db = ctx.db;
    let filter_key: String = filters.iter().map(|(c, v)| format!("{c}={v};")).collect();
    // Days already validated earlier in this load need no second look.
    let mut out: Vec<(i64, Option<Arc<Vec<Row>>>)> = {
        let seen = ctx.memo.days.lock().expect("memo lock");
        w.day_starts().into_iter().map(|d| (d, seen.get(&(spec.id, filter_key.clone(), d)).cloned())).collect()
    };
    let unseen: Vec<i64> = out.iter().filter(|(_, r)| r.is_none()).map(|(d, _)| *d).collect();
    let (Some(&first), Some(&last)) = (unseen.first(), unseen.last()) else {
        return Ok(out.into_iter().map(|(d, r)| (d, r.unwrap_or_default())).collect());
    };
    let span = Window { start: first, end: last + crate::engine::rollups::DAY_MS };
    let versions: HashMap<i64, i64> =
        sqlx::query("SELECT day, version FROM rollup_days WHERE tenant_id = $1 AND day >= $2 AND day < $3")
            .bind(ctx.tenant_id)
            .bind(span.start)
            .bind(span.end)
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| (get_i64(r, "day"), get_i64(r, "version")))
            .collect();
    let key = |day: i64| (ctx.tenant_id.to_string(), spec.id, filter_key.clone(), day);
    {
        let map = db.day_cache.map.lock().expect("day cache lock");
        for (d, slot) in out.iter_mut().filter(|(_, r)| r.is_none()) {
            let v = versions.get(d).copied().unwrap_or(0);
            *slot = map.get(&key(*d)).filter(|(cv, _)| *cv == v).map(|(_, rows)| rows.clone());
        }
    }
    let missing: Vec<i64> = out.iter().filter(|(_, r)| r.is_none()).map(|(d, _)| *d).collect();
    if let (Some(first), Some(last)) = (missing.first(), missing.last()) {
        let mut fresh =
            query(ctx, spec, Window { start: *first, end: *last + crate::engine::rollups::DAY_MS }, filters).await?;
        let mut map = db.day_cache.map.lock().expect("day cache lock");
        if map.len() + missing.len() > MAX_ENTRIES {
            map.clear();
        }
        for (d, slot) in out.iter_mut().filter(|(_, r)| r.is_none()) {
            let rows = Arc::new(fresh.remove(d).unwrap_or_default());
            map.insert(key(*d), (versions.get(d).copied().unwrap_or(0), rows.clone()));
            *slot = Some(rows);
        }
    }
    {
        // Every day is validated now; remember them all for the rest of this load.
        let mut seen = ctx.memo.days.lock().expect("memo lock");
        for (d, rows) in out.iter().filter_map(|(d, r)| r.as_ref().map(|r| (*d, r))) {
            seen.entry((spec.id, filter_key.clone(), d)).or_insert_with(|| rows.clone());
        }
    }
    Ok(out.into_iter().map(|(d, r)| (d, r.unwrap_or_default())).collect())
}

/// Reads the grouped sums of the days in `w` from the database.
async fn query(
    ctx: &Ctx<'_>,
    spec: &Spec,
    w: Window,
    filters: &[(&'static str, String)],
) -> Result<HashMap<i64, Vec<Row>>, AppError> {
    let keys: String = spec.group.iter().enumerate().map(|(i, c)| format!(", CAST({c} AS TEXT) AS k{i}")).collect();
    let sums: String =
        spec.sums.iter().enumerate().map(|(i, c)| format!(", CAST(SUM({c}) AS DOUBLE PRECISION) AS s{i}")).collect();
    let conds: String = filters.iter().enumerate().map(|(i, (c, _))| format!(" AND {c} = ${}", i + 4)).collect();
    let group: String = spec.group.iter().map(|c| format!(", {c}")).collect();
    let sql = format!(
        "SELECT day{keys}{sums} FROM {} WHERE tenant_id = $1 AND day >= $2 AND day < $3{conds} GROUP BY day{group}",
        spec.table
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ctx.tenant_id).bind(w.start).bind(w.end);
    for (_, v) in filters {
        q = q.bind(v.clone());
    }
    let mut out: HashMap<i64, Vec<Row>> = HashMap::new();
    for r in q.fetch_all(&ctx.db.pool).await? {
        let row = Row {
            keys: (0..spec.group.len()).map(|i| get_str(&r, &format!("k{i}"))).collect(),
            sums: (0..spec.sums.len()).map(|i| get_f64(&r, &format!("s{i}"))).collect(),
        };
        out.entry(get_i64(&r, "day")).or_default().push(row);
    }
    Ok(out)
}
