//! Attribution sources: credit by channel and by offer under the chosen model (`model` param,
//! default linear), and every channel under every model side by side. Credit is computed per
//! conversion when data is loaded, so the credits of each conversion sum to its value.

use super::common::{names, round, segment_filter, Ctx};
use super::daily;
use crate::engine::rollups::ATTRIBUTION_MODELS;
use crate::model::{AppError, Cell, Chart, ChartKind, Column, ColumnKind, Table};
use std::collections::BTreeMap;

/// The model labels in selector order.
pub fn model_label(model: &str) -> &'static str {
    match model {
        "last_touch" => "Last touch",
        "first_touch" => "First touch",
        "time_decay" => "Time decay",
        "position_based" => "Position based (40/20/40)",
        _ => "Linear",
    }
}

fn chosen(ctx: &Ctx<'_>) -> String {
    let m = ctx.param("model", "linear");
    if ATTRIBUTION_MODELS.contains(&m.as_str()) {
        m
    } else {
        "linear".into()
    }
}

async fn credit(
    ctx: &Ctx<'_>,
    dim: &str,
    model: Option<&str>,
) -> Result<Vec<(String, String, i64, f64, f64)>, AppError> {
    const SUMS: &[&str] = &["touchpoints", "credit", "credited_value_cents"];
    static BY_CHANNEL: daily::Spec = daily::Spec {
        id: "attribution/channel",
        table: "rollup_attribution_daily",
        group: &["channel_id", "model"],
        sums: SUMS,
    };
    static BY_OFFER: daily::Spec = daily::Spec {
        id: "attribution/offer",
        table: "rollup_attribution_daily",
        group: &["offer_id", "model"],
        sums: SUMS,
    };
    let spec = if dim == "offer_id" { &BY_OFFER } else { &BY_CHANNEL };
    let mut filters = segment_filter(ctx);
    filters.extend(model.map(|m| ("model", m.to_string())));
    let mut sums: BTreeMap<(String, String), (i64, f64, f64)> = BTreeMap::new();
    for (_, rows) in daily::fetch(ctx, spec, ctx.window(), &filters).await? {
        for row in rows.iter() {
            let e = sums.entry((row.keys[0].clone(), row.keys[1].clone())).or_default();
            e.0 += row.sums[0].round() as i64;
            e.1 += row.sums[1];
            e.2 += row.sums[2];
        }
    }
    Ok(sums.into_iter().map(|((g, m), (tp, credit, value))| (g, m, tp, credit, value)).collect())
}

async fn by_dimension(
    ctx: &Ctx<'_>,
    source: &str,
    title: &str,
    dim: &str,
    table: &str,
    label: &str,
) -> Result<Table, AppError> {
    let model = chosen(ctx);
    let rows = credit(ctx, dim, Some(&model)).await?;
    let names = names(ctx, table).await?;
    let total: f64 = rows.iter().map(|r| r.4).sum();
    let mut list: Vec<_> =
        rows.into_iter().map(|(id, _, tp, c, v)| (names.get(&id).cloned().unwrap_or(id), tp, c, v)).collect();
    list.sort_by(|a, b| b.3.total_cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    let mut t = Table::new(
        source,
        &format!("{title} — {}", model_label(&model)),
        vec![
            Column::new("name", label, ColumnKind::Text),
            Column::new("touchpoints", "Touchpoints", ColumnKind::Integer),
            Column::new("conversions", "Credited conversions", ColumnKind::Number),
            Column::new("share", "Share", ColumnKind::Percent),
            Column::new("attributed_value", "Attributed value", ColumnKind::Money),
        ],
    );
    for (name, tp, c, v) in list {
        let share = (total > 0.0).then(|| round(v / total * 100.0, 2));
        t.push(vec![
            Cell::from(name),
            Cell::from(tp),
            Cell::from(round(c, 2)),
            Cell::from(share),
            Cell::from(round(v / 100.0, 2)),
        ]);
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "name", &["attributed_value"]));
    Ok(t)
}

/// `attribution_by_channel`.
pub async fn attribution_by_channel(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    by_dimension(ctx, "attribution_by_channel", "Credit by channel", "channel_id", "channels", "Channel").await
}

/// `attribution_by_offer`.
pub async fn attribution_by_offer(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let mut t = by_dimension(ctx, "attribution_by_offer", "Credit by offer", "offer_id", "offers", "Offer").await?;
    t.chart = None;
    Ok(t)
}

/// `attribution_comparison`: attributed value per channel under every model.
pub async fn attribution_comparison(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let rows = credit(ctx, "channel_id", None).await?;
    let names = names(ctx, "channels").await?;
    let mut grid: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (id, model, _, _, v) in rows {
        *grid.entry(names.get(&id).cloned().unwrap_or(id)).or_default().entry(model).or_default() += v;
    }
    let mut cols = vec![Column::new("channel", "Channel", ColumnKind::Text)];
    for m in ATTRIBUTION_MODELS {
        cols.push(Column::new(m, model_label(m), ColumnKind::Money));
    }
    let mut t = Table::new("attribution_comparison", "Channel × model comparison", cols);
    for (ch, models) in grid {
        let mut row = vec![Cell::from(ch)];
        row.extend(
            ATTRIBUTION_MODELS.iter().map(|m| Cell::from(round(models.get(*m).copied().unwrap_or(0.0) / 100.0, 2))),
        );
        t.push(row);
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "channel", &ATTRIBUTION_MODELS));
    Ok(t)
}
