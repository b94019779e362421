//! Business dashboard sources: KPIs, offer performance, channel effectiveness, the decision
//! funnel, daily and revenue trends, selection frequency and budget burn.

use super::common::{decisions, interactions, iso_day, names, ratio_pct, round, segment_filter, Agg, By, Ctx};
use super::daily;
use super::kpis::{self, spark_window, Kpi};
use crate::engine::db::{get_i64, get_str};
use crate::engine::rollups::DAY_MS;
use crate::model::{AppError, Cell, Chart, ChartKind, Column, ColumnKind, Table};
use std::collections::{BTreeMap, HashMap};

/// `business_kpis`: impressions, conversions, conversion rate, revenue with Δ%.
pub async fn business_kpis(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let cur = interactions(ctx, w, By::All).await?.remove("").unwrap_or_default();
    let prev = interactions(ctx, w.previous(), By::All).await?.remove("").unwrap_or_default();
    let sw = spark_window(w);
    let daily = interactions(ctx, sw, By::Day).await?;
    let spark = |f: &dyn Fn(&Agg) -> f64| {
        sw.day_starts().iter().map(|d| daily.get(&d.to_string()).map(f).unwrap_or(0.0)).collect::<Vec<_>>()
    };
    let k = |key, label, format, f: &dyn Fn(&Agg) -> f64| Kpi {
        key,
        label,
        format,
        current: f(&cur),
        previous: Some(f(&prev)),
        up_is_bad: false,
        spark: spark(f),
    };
    Ok(kpis::table(
        "business_kpis",
        "Business KPIs",
        vec![
            k("impressions", "Impressions", "integer", &|a| a.impressions as f64),
            k("conversions", "Conversions", "integer", &|a| a.conversions as f64),
            k("conversion_rate", "Conversion rate", "percent", &|a| round(a.conversion_pct().unwrap_or(0.0), 2)),
            k("revenue", "Revenue", "money", &|a| a.revenue()),
        ],
    ))
}

/// `offer_performance`: top 20 by impressions; `groupBy` = offer (default), channel, category, segment.
pub async fn offer_performance(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let group = ctx.param("groupBy", "offer");
    let w = ctx.window();
    let (by, table, label) = match group.as_str() {
        "channel" => (By::Channel, "channels", "Channel"),
        "segment" => (By::Segment, "segments", "Segment"),
        "category" => (By::Offer, "offers", "Category"),
        _ => (By::Offer, "offers", "Offer"),
    };
    let rows = interactions(ctx, w, by).await?;
    let names = names(ctx, table).await?;
    let mut grouped: HashMap<String, Agg> = HashMap::new();
    if group == "category" {
        let cats: HashMap<String, String> = sqlx::query("SELECT id, category FROM offers WHERE tenant_id = $1")
            .bind(ctx.tenant_id)
            .fetch_all(&ctx.db.pool)
            .await?
            .iter()
            .map(|r| (get_str(r, "id"), get_str(r, "category")))
            .collect();
        for (id, a) in rows {
            let e = grouped.entry(cats.get(&id).cloned().unwrap_or(id)).or_default();
            add(e, &a);
        }
    } else {
        for (id, a) in rows {
            grouped.insert(names.get(&id).cloned().unwrap_or(id), a);
        }
    }
    let mut list: Vec<(String, Agg)> = grouped.into_iter().filter(|(_, a)| a.impressions > 0).collect();
    by_impressions(&mut list);
    list.truncate(20);
    let mut t = Table::new(
        "offer_performance",
        "Offer performance",
        vec![
            Column::new("name", label, ColumnKind::Text),
            Column::new("impressions", "Impressions", ColumnKind::Integer),
            Column::new("conversions", "Conversions", ColumnKind::Integer),
            Column::new("conversion_rate", "Conversion rate", ColumnKind::Percent),
            Column::new("revenue", "Revenue", ColumnKind::Money),
        ],
    );
    for (name, a) in list {
        t.push(vec![
            Cell::from(name),
            Cell::from(a.impressions),
            Cell::from(a.conversions),
            Cell::from(a.conversion_pct().map(|r| round(r, 2))),
            Cell::from(a.revenue()),
        ]);
    }
    t.note = Some(format!("Top 20 by impressions, grouped by {}", label.to_lowercase()));
    Ok(t)
}

/// Most impressions first; ties by name, so the order is stable from one load to the next.
fn by_impressions(list: &mut [(String, Agg)]) {
    list.sort_by(|a, b| b.1.impressions.cmp(&a.1.impressions).then_with(|| a.0.cmp(&b.0)));
}

fn add(e: &mut Agg, a: &Agg) {
    e.impressions += a.impressions;
    e.clicks += a.clicks;
    e.conversions += a.conversions;
    e.dismissals += a.dismissals;
    e.opt_outs += a.opt_outs;
    e.complaints += a.complaints;
    e.revenue_cents += a.revenue_cents;
}

/// `channel_effectiveness`: per channel impressions, conversions, rates and revenue.
pub async fn channel_effectiveness(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let rows = interactions(ctx, ctx.window(), By::Channel).await?;
    let names = names(ctx, "channels").await?;
    let mut list: Vec<(String, Agg)> =
        rows.into_iter().map(|(id, a)| (names.get(&id).cloned().unwrap_or(id), a)).collect();
    by_impressions(&mut list);
    let mut t = Table::new(
        "channel_effectiveness",
        "Channel effectiveness",
        vec![
            Column::new("channel", "Channel", ColumnKind::Text),
            Column::new("impressions", "Impressions", ColumnKind::Integer),
            Column::new("conversions", "Conversions", ColumnKind::Integer),
            Column::new("effectiveness", "Acceptance rate", ColumnKind::Percent),
            Column::new("conversion_rate", "Conversion rate", ColumnKind::Percent),
            Column::new("revenue", "Revenue", ColumnKind::Money),
        ],
    );
    for (name, a) in list {
        t.push(vec![
            Cell::from(name),
            Cell::from(a.impressions),
            Cell::from(a.conversions),
            Cell::from(a.acceptance_pct().map(|r| round(r, 2))),
            Cell::from(a.conversion_pct().map(|r| round(r, 2))),
            Cell::from(a.revenue()),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "channel", &["effectiveness", "conversion_rate"]));
    Ok(t)
}

/// The funnel stage names in order.
pub const STAGES: [&str; 5] =
    ["Initial candidates", "After qualification", "After suppression", "After contact policy", "After scoring"];

/// `funnel`: average candidates per decision at each stage and the share of the initial count.
pub async fn funnel(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let total = decisions(ctx, ctx.window(), false).await?.into_values().next().unwrap_or_default();
    let mut t = Table::new(
        "funnel",
        "Decision funnel",
        vec![
            Column::new("stage", "Stage", ColumnKind::Text),
            Column::new("avg_candidates", "Avg candidates", ColumnKind::Number),
            Column::new("share_of_initial", "Share of initial", ColumnKind::Percent),
        ],
    );
    if total.decisions > 0 {
        for (i, stage) in STAGES.iter().enumerate() {
            let avg = total.funnel[i] as f64 / total.decisions as f64;
            t.push(vec![
                Cell::from(*stage),
                Cell::from(round(avg, 2)),
                Cell::from(ratio_pct(total.funnel[i], total.funnel[0]).map(|r| round(r, 1))),
            ]);
        }
    }
    t.chart = Some(Chart::new(ChartKind::Funnel, "stage", &["avg_candidates"]));
    Ok(t)
}

/// `daily_trend`: impressions, positives and conversions per day (zero-filled).
pub async fn daily_trend(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let daily = interactions(ctx, w, By::Day).await?;
    let mut t = Table::new(
        "daily_trend",
        "Daily trend",
        vec![
            Column::new("day", "Day", ColumnKind::Date),
            Column::new("impressions", "Impressions", ColumnKind::Integer),
            Column::new("positives", "Positives", ColumnKind::Integer),
            Column::new("conversions", "Conversions", ColumnKind::Integer),
        ],
    );
    for d in w.day_starts() {
        let a = daily.get(&d.to_string()).copied().unwrap_or_default();
        t.push(vec![
            Cell::from(iso_day(d)),
            Cell::from(a.impressions),
            Cell::from(a.positives()),
            Cell::from(a.conversions),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::Line, "day", &["impressions", "positives", "conversions"]));
    Ok(t)
}

/// `revenue_trend`: revenue per day (zero-filled).
pub async fn revenue_trend(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let daily = interactions(ctx, w, By::Day).await?;
    let mut t = Table::new(
        "revenue_trend",
        "Revenue trend",
        vec![Column::new("day", "Day", ColumnKind::Date), Column::new("revenue", "Revenue", ColumnKind::Money)],
    );
    for d in w.day_starts() {
        let a = daily.get(&d.to_string()).copied().unwrap_or_default();
        t.push(vec![Cell::from(iso_day(d)), Cell::from(a.revenue())]);
    }
    t.chart = Some(Chart::new(ChartKind::Line, "day", &["revenue"]));
    Ok(t)
}

/// `selection_frequency`: how often each offer was selected by a decision, and its share.
pub async fn selection_frequency(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    static SPEC: daily::Spec = daily::Spec {
        id: "selections/offer",
        table: "rollup_selection_daily",
        group: &["offer_id"],
        sums: &["selections"],
    };
    let mut per_offer: BTreeMap<String, i64> = BTreeMap::new();
    for (_, rows) in daily::fetch(ctx, &SPEC, w, &segment_filter(ctx)).await? {
        for row in rows.iter() {
            *per_offer.entry(row.keys[0].clone()).or_default() += row.sums[0].round() as i64;
        }
    }
    let total_decisions = decisions(ctx, w, false).await?.into_values().next().unwrap_or_default().decisions;
    let names = names(ctx, "offers").await?;
    let mut list: Vec<(String, i64)> = per_offer.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut t = Table::new(
        "selection_frequency",
        "Selection frequency",
        vec![
            Column::new("offer", "Offer", ColumnKind::Text),
            Column::new("selections", "Selections", ColumnKind::Integer),
            Column::new("share", "Share of decisions", ColumnKind::Percent),
        ],
    );
    for (id, n) in list {
        t.push(vec![
            Cell::from(names.get(&id).cloned().unwrap_or(id)),
            Cell::from(n),
            Cell::from(ratio_pct(n, total_decisions).map(|r| round(r, 2))),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "offer", &["selections"]));
    Ok(t)
}

/// `budget_burn`: spent, remaining, burn rate (spent ÷ days since first shown) and days left.
pub async fn budget_burn(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let offers = sqlx::query(
        "SELECT o.id, o.name, o.status, o.daily_budget_cents, o.lifetime_budget_cents, o.spent_cents, \
         (SELECT MIN(day) FROM rollup_interactions_daily r WHERE r.tenant_id = o.tenant_id AND r.offer_id = o.id) AS first_day \
         FROM offers o WHERE o.tenant_id = $1 ORDER BY o.name",
    )
    .bind(ctx.tenant_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let today = crate::engine::rollups::day_of(ctx.now);
    let mut t = Table::new(
        "budget_burn",
        "Budget burn",
        vec![
            Column::new("offer", "Offer", ColumnKind::Text),
            Column::new("status", "Status", ColumnKind::Text),
            Column::new("lifetime_budget", "Lifetime budget", ColumnKind::Money),
            Column::new("spent", "Spent", ColumnKind::Money),
            Column::new("remaining", "Remaining", ColumnKind::Money),
            Column::new("burn_rate", "Burn rate per day", ColumnKind::Money),
            Column::new("days_left", "Projected days left", ColumnKind::Number),
        ],
    );
    for o in &offers {
        let (budget, spent) = (get_i64(o, "lifetime_budget_cents"), get_i64(o, "spent_cents"));
        let remaining = (budget - spent).max(0);
        let first = crate::engine::db::get_opt_i64(o, "first_day").unwrap_or(today);
        let elapsed = ((today - first) / DAY_MS + 1).max(1);
        let burn = spent as f64 / elapsed as f64;
        let days_left = (burn > 0.0).then(|| round(remaining as f64 / burn, 1));
        t.push(vec![
            Cell::from(get_str(o, "name")),
            Cell::from(get_str(o, "status")),
            Cell::from(budget as f64 / 100.0),
            Cell::from(spent as f64 / 100.0),
            Cell::from(remaining as f64 / 100.0),
            Cell::from(round(burn / 100.0, 2)),
            Cell::from(days_left),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::StackedBar, "offer", &["spent", "remaining"]));
    Ok(t)
}
