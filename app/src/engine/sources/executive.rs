//! Executive dashboard sources: the six KPI cards and the segment × offer heatmap (the anomaly
//! feed lives in `anomalies`).

use super::anomalies;
use super::common::{decisions, interactions, names, ratio_pct, round, By, Ctx, Window};
use super::kpis::{self, spark_window, Kpi};
use crate::engine::db::{get_f64, get_str};
use crate::model::{AppError, Cell, Chart, ChartKind, Column, ColumnKind, Table};
use std::collections::BTreeMap;

/// Cells with fewer impressions than this are hatched (rate not shown).
pub const HEATMAP_MIN_IMPRESSIONS: i64 = 30;

/// Distinct offers shown (with impressions) in a window.
async fn offers_shown(ctx: &Ctx<'_>, w: Window) -> Result<f64, AppError> {
    Ok(interactions(ctx, w, By::Offer).await?.values().filter(|a| a.impressions > 0).count() as f64)
}

/// The primary model: the first one created (ties by name).
pub async fn primary_model(ctx: &Ctx<'_>) -> Result<Option<(String, String)>, AppError> {
    let row = sqlx::query("SELECT id, name FROM models WHERE tenant_id = $1 ORDER BY created_at, name LIMIT 1")
        .bind(ctx.tenant_id)
        .fetch_optional(&ctx.db.pool)
        .await?;
    Ok(row.map(|r| (get_str(&r, "id"), get_str(&r, "name"))))
}

/// A model's latest AUC on a day before `before`.
pub async fn auc_before(ctx: &Ctx<'_>, model_id: &str, before: i64) -> Result<Option<f64>, AppError> {
    let row = sqlx::query(
        "SELECT auc FROM model_evaluations WHERE tenant_id = $1 AND model_id = $2 AND day < $3 ORDER BY day DESC LIMIT 1",
    )
    .bind(ctx.tenant_id)
    .bind(model_id)
    .bind(before)
    .fetch_optional(&ctx.db.pool)
    .await?;
    Ok(row.map(|r| get_f64(&r, "auc")))
}

/// `kpi_summary`: Active offers, Decisions, Acceptance rate, Revenue, Model AUC, Anomalies.
pub async fn kpi_summary(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let p = w.previous();
    let sw = spark_window(w);
    let cur = interactions(ctx, w, By::All).await?.remove("").unwrap_or_default();
    let prev = interactions(ctx, p, By::All).await?.remove("").unwrap_or_default();
    let daily = interactions(ctx, sw, By::Day).await?;
    let day_dec = decisions(ctx, sw, true).await?;
    let spark = |f: &dyn Fn(i64) -> f64| sw.day_starts().into_iter().map(f).collect::<Vec<f64>>();
    let dec_cur = decisions(ctx, w, false).await?.values().map(|a| a.decisions).sum::<i64>();
    let dec_prev = decisions(ctx, p, false).await?.values().map(|a| a.decisions).sum::<i64>();
    let (auc_cur, auc_prev, auc_spark) = match primary_model(ctx).await? {
        Some((id, _)) => {
            // Every evaluation up to the window's end in one query; each day's value is the latest
            // evaluation made before that day ended.
            let evals: Vec<(i64, f64)> = sqlx::query(
                "SELECT day, auc FROM model_evaluations WHERE tenant_id = $1 AND model_id = $2 AND day < $3 ORDER BY day",
            )
            .bind(ctx.tenant_id)
            .bind(&id)
            .bind(sw.end.max(w.end))
            .fetch_all(&ctx.db.pool)
            .await?
            .iter()
            .map(|r| (crate::engine::db::get_i64(r, "day"), get_f64(r, "auc")))
            .collect();
            let latest_before = |t: i64| evals.iter().rev().find(|(d, _)| *d < t).map(|(_, a)| *a);
            let s =
                sw.day_starts().into_iter().map(|d| latest_before(d + crate::engine::rollups::DAY_MS).unwrap_or(0.0));
            (latest_before(w.end), latest_before(w.start), s.collect())
        }
        None => (None, None, Vec::new()),
    };
    let anomalies_cur = anomalies::detect(ctx, w).await?.len() as f64;
    let anomalies_prev = anomalies::detect(ctx, p).await?.len() as f64;
    let kpis = vec![
        Kpi {
            key: "active_offers",
            label: "Active offers",
            format: "integer",
            current: offers_shown(ctx, w).await?,
            previous: Some(offers_shown(ctx, p).await?),
            up_is_bad: false,
            spark: Vec::new(),
        },
        Kpi {
            key: "decisions",
            label: "Decisions",
            format: "integer",
            current: dec_cur as f64,
            previous: Some(dec_prev as f64),
            up_is_bad: false,
            spark: spark(&|d| day_dec.get(&d).map(|a| a.decisions as f64).unwrap_or(0.0)),
        },
        Kpi {
            key: "acceptance_rate",
            label: "Acceptance rate",
            format: "percent",
            current: round(cur.acceptance_pct().unwrap_or(0.0), 2),
            previous: Some(round(prev.acceptance_pct().unwrap_or(0.0), 2)),
            up_is_bad: false,
            spark: spark(&|d| daily.get(&d.to_string()).and_then(|a| a.acceptance_pct()).unwrap_or(0.0)),
        },
        Kpi {
            key: "revenue",
            label: "Revenue",
            format: "money",
            current: cur.revenue(),
            previous: Some(prev.revenue()),
            up_is_bad: false,
            spark: spark(&|d| daily.get(&d.to_string()).map(|a| a.revenue()).unwrap_or(0.0)),
        },
        Kpi {
            key: "model_auc",
            label: "Model AUC",
            format: "number",
            current: auc_cur.unwrap_or(0.0),
            previous: auc_prev,
            up_is_bad: false,
            spark: auc_spark,
        },
        Kpi {
            key: "anomalies",
            label: "Anomalies",
            format: "integer",
            current: anomalies_cur,
            previous: Some(anomalies_prev),
            up_is_bad: true,
            spark: Vec::new(),
        },
    ];
    let mut t = kpis::table("kpi_summary", "Key metrics", kpis);
    t.note = Some("Compared with the previous period of equal length".into());
    Ok(t)
}

/// `segment_offer_heatmap`: acceptance rate for each segment × offer (top offers by impressions).
pub async fn segment_offer_heatmap(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let cells = interactions(ctx, w, By::SegmentOffer).await?;
    let offers = names(ctx, "offers").await?;
    let segments = sqlx::query("SELECT id, name, size FROM segments WHERE tenant_id = $1 ORDER BY size DESC, name")
        .bind(ctx.tenant_id)
        .fetch_all(&ctx.db.pool)
        .await?;
    let mut offer_imps: BTreeMap<String, i64> = BTreeMap::new();
    for (k, a) in &cells {
        if let Some((_, o)) = k.split_once('|') {
            *offer_imps.entry(o.to_string()).or_default() += a.impressions;
        }
    }
    let mut top: Vec<(String, i64)> = offer_imps.into_iter().filter(|(_, n)| *n > 0).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(10);
    let mut t = Table::new(
        "segment_offer_heatmap",
        "Acceptance by segment and offer",
        vec![
            Column::new("segment", "Segment", ColumnKind::Text),
            Column::new("offer", "Offer", ColumnKind::Text),
            Column::new("impressions", "Impressions", ColumnKind::Integer),
            Column::new("positives", "Positives", ColumnKind::Integer),
            Column::new("acceptance_rate", "Acceptance rate", ColumnKind::Percent),
        ],
    );
    for s in segments.iter().take(8) {
        let sid = get_str(s, "id");
        if ctx.segment_id.is_some_and(|f| f != sid) {
            continue;
        }
        for (oid, _) in &top {
            let a = cells.get(&format!("{sid}|{oid}")).copied().unwrap_or_default();
            let rate = if a.impressions >= HEATMAP_MIN_IMPRESSIONS {
                ratio_pct(a.positives(), a.impressions).map(|r| round(r, 2))
            } else {
                None
            };
            t.push(vec![
                Cell::from(get_str(s, "name")),
                Cell::from(offers.get(oid).cloned().unwrap_or_else(|| oid.clone())),
                Cell::from(a.impressions),
                Cell::from(a.positives()),
                Cell::from(rate),
            ]);
        }
    }
    t.chart = Some(Chart {
        kind: ChartKind::Heatmap,
        x: "offer".into(),
        series: vec!["acceptance_rate".into()],
        y: Some("segment".into()),
    });
    t.note = Some(format!("Cells with fewer than {HEATMAP_MIN_IMPRESSIONS} impressions are hatched"));
    Ok(t)
}
