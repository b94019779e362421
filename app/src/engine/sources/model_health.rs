//! Model Health sources: AUC trend, latest vs previous AUC, drift (PSI/KS), feature importance
//! and experiments.

use super::common::{iso_day, iso_instant, round, Ctx};
use super::executive::{auc_before, primary_model};
use crate::engine::db::{get_f64, get_i64, get_str};
use crate::engine::rollups::DAY_MS;
use crate::model::{AppError, Cell, Chart, ChartKind, Column, ColumnKind, Table};
use std::collections::BTreeMap;

async fn models(ctx: &Ctx<'_>) -> Result<Vec<(String, String)>, AppError> {
    let rows = sqlx::query("SELECT id, name FROM models WHERE tenant_id = $1 ORDER BY created_at, name")
        .bind(ctx.tenant_id)
        .fetch_all(&ctx.db.pool)
        .await?;
    Ok(rows.iter().map(|r| (get_str(r, "id"), get_str(r, "name"))).collect())
}

/// `model_auc_trend`: one column per model, one row per day.
pub async fn model_auc_trend(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let ms = models(ctx).await?;
    let rows =
        sqlx::query("SELECT model_id, day, auc FROM model_evaluations WHERE tenant_id = $1 AND day >= $2 AND day < $3")
            .bind(ctx.tenant_id)
            .bind(w.start)
            .bind(w.end)
            .fetch_all(&ctx.db.pool)
            .await?;
    let mut by: BTreeMap<(i64, String), f64> = BTreeMap::new();
    for r in &rows {
        by.insert((get_i64(r, "day"), get_str(r, "model_id")), get_f64(r, "auc"));
    }
    let mut cols = vec![Column::new("day", "Day", ColumnKind::Date)];
    let keys: Vec<String> = (0..ms.len()).map(|i| format!("model_{}", i + 1)).collect();
    for (k, (_, name)) in keys.iter().zip(&ms) {
        cols.push(Column::new(k, name, ColumnKind::Number));
    }
    let mut t = Table::new("model_auc_trend", "Model AUC trend", cols);
    for d in w.day_starts() {
        let mut row = vec![Cell::from(iso_day(d))];
        row.extend(ms.iter().map(|(id, _)| Cell::from(by.get(&(d, id.clone())).copied())));
        t.push(row);
    }
    let series: Vec<&str> = keys.iter().map(String::as_str).collect();
    t.chart = Some(Chart::new(ChartKind::Line, "day", &series));
    Ok(t)
}

/// `model_auc_summary`: each model's latest AUC vs its value at the end of the previous period.
pub async fn model_auc_summary(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let mut t = Table::new(
        "model_auc_summary",
        "Latest vs previous AUC",
        vec![
            Column::new("model", "Model", ColumnKind::Text),
            Column::new("latest_auc", "Latest AUC", ColumnKind::Number),
            Column::new("previous_auc", "Previous AUC", ColumnKind::Number),
            Column::new("delta", "Δ AUC", ColumnKind::Number),
        ],
    );
    for (id, name) in models(ctx).await? {
        let (cur, prev) = (auc_before(ctx, &id, w.end).await?, auc_before(ctx, &id, w.start).await?);
        let d = cur.zip(prev).map(|(c, p)| round(c - p, 4));
        t.push(vec![Cell::from(name), Cell::from(cur), Cell::from(prev), Cell::from(d)]);
    }
    Ok(t)
}

/// PSI status: < 0.1 ok, 0.1–0.25 monitor, > 0.25 retrain.
pub fn drift_status(psi: f64) -> &'static str {
    if psi > 0.25 {
        "retrain"
    } else if psi >= 0.1 {
        "monitor"
    } else {
        "ok"
    }
}

async fn latest_evaluation(ctx: &Ctx<'_>, model_id: &str, before: i64) -> Result<Option<sqlx::any::AnyRow>, AppError> {
    Ok(sqlx::query(
        "SELECT day, auc, psi, ks, feature_importance FROM model_evaluations \
         WHERE tenant_id = $1 AND model_id = $2 AND day < $3 ORDER BY day DESC LIMIT 1",
    )
    .bind(ctx.tenant_id)
    .bind(model_id)
    .bind(before)
    .fetch_optional(&ctx.db.pool)
    .await?)
}

/// `model_drift`: latest PSI and KS per model with the drift status.
pub async fn model_drift(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let mut t = Table::new(
        "model_drift",
        "Drift",
        vec![
            Column::new("model", "Model", ColumnKind::Text),
            Column::new("psi", "PSI", ColumnKind::Number),
            Column::new("ks", "KS", ColumnKind::Number),
            Column::new("status", "Status", ColumnKind::Text),
            Column::new("evaluated", "Evaluated", ColumnKind::Date),
        ],
    );
    for (id, name) in models(ctx).await? {
        if let Some(r) = latest_evaluation(ctx, &id, w.end).await? {
            let psi = get_f64(&r, "psi");
            t.push(vec![
                Cell::from(name),
                Cell::from(psi),
                Cell::from(get_f64(&r, "ks")),
                Cell::from(drift_status(psi)),
                Cell::from(iso_day(get_i64(&r, "day"))),
            ]);
        }
    }
    t.note = Some("PSI < 0.1 ok · 0.1–0.25 monitor · > 0.25 retrain".into());
    Ok(t)
}

/// `feature_importance`: the primary model's latest feature importances, largest first.
pub async fn feature_importance(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let mut t = Table::new(
        "feature_importance",
        "Feature importance",
        vec![
            Column::new("feature", "Feature", ColumnKind::Text),
            Column::new("importance", "Importance", ColumnKind::Number),
        ],
    );
    if let Some((id, name)) = primary_model(ctx).await? {
        if let Some(r) = latest_evaluation(ctx, &id, w.end).await? {
            let map: BTreeMap<String, f64> =
                serde_json::from_str(&get_str(&r, "feature_importance")).unwrap_or_default();
            let mut list: Vec<_> = map.into_iter().collect();
            list.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (f, v) in list {
                t.push(vec![Cell::from(f), Cell::from(round(v, 4))]);
            }
            t.title = format!("Feature importance — {name}");
        }
    }
    t.chart = Some(Chart::new(ChartKind::Bar, "feature", &["importance"]));
    Ok(t)
}

/// `experiments`: experiments with status, start and days running.
pub async fn experiments(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let rows = sqlx::query("SELECT name, status, started_at, variants FROM experiments WHERE tenant_id = $1 ORDER BY status DESC, started_at DESC")
        .bind(ctx.tenant_id)
        .fetch_all(&ctx.db.pool)
        .await?;
    let mut t = Table::new(
        "experiments",
        "Experiments",
        vec![
            Column::new("name", "Experiment", ColumnKind::Text),
            Column::new("status", "Status", ColumnKind::Text),
            Column::new("started", "Started", ColumnKind::Timestamp),
            Column::new("days_running", "Days running", ColumnKind::Integer),
            Column::new("variants", "Variants", ColumnKind::Text),
        ],
    );
    for r in &rows {
        let started = get_i64(r, "started_at");
        let variants: Vec<String> = serde_json::from_str(&get_str(r, "variants")).unwrap_or_default();
        t.push(vec![
            Cell::from(get_str(r, "name")),
            Cell::from(get_str(r, "status")),
            Cell::from(iso_instant(started)),
            Cell::from(((ctx.now - started) / DAY_MS).max(0)),
            Cell::from(variants.join(", ")),
        ]);
    }
    Ok(t)
}
