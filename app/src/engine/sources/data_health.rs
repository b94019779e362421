//! Data Health sources: connector and pipeline KPIs, connector status, pipeline runs.

use super::common::{iso_instant, Ctx};
use crate::engine::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::model::{AppError, Cell, Column, ColumnKind, Table};

/// `data_health_kpis`: connectors total/healthy/failing, pipelines active/running/failed, schemas.
pub async fn data_health_kpis(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let conns = sqlx::query("SELECT status FROM connectors WHERE tenant_id = $1")
        .bind(ctx.tenant_id)
        .fetch_all(&ctx.db.pool)
        .await?;
    let pipes = sqlx::query("SELECT status, schema_count FROM pipelines WHERE tenant_id = $1")
        .bind(ctx.tenant_id)
        .fetch_all(&ctx.db.pool)
        .await?;
    let runs = sqlx::query(
        "SELECT status, ended_at FROM pipeline_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3",
    )
    .bind(ctx.tenant_id)
    .bind(w.start)
    .bind(w.end)
    .fetch_all(&ctx.db.pool)
    .await?;
    let count =
        |rows: &[sqlx::any::AnyRow], st: &str| rows.iter().filter(|r| get_str(r, "status") == st).count() as f64;
    let mut t = Table::new(
        "data_health_kpis",
        "Data health",
        vec![
            Column::internal("metric", ColumnKind::Text),
            Column::new("label", "Metric", ColumnKind::Text),
            Column::new("value", "Value", ColumnKind::Number),
            Column::internal("format", ColumnKind::Text),
        ],
    );
    let items = [
        ("connectors_total", "Connectors", conns.len() as f64),
        ("connectors_healthy", "Healthy connectors", count(&conns, "healthy")),
        ("connectors_failing", "Failing connectors", count(&conns, "failing")),
        ("pipelines_active", "Active pipelines", count(&pipes, "active")),
        (
            "pipelines_running",
            "Running now",
            runs.iter().filter(|r| get_opt_i64(r, "ended_at").is_none()).count() as f64,
        ),
        ("pipeline_runs_failed", "Failed runs in period", count(&runs, "failed")),
        ("schemas", "Schemas", pipes.iter().map(|r| get_i64(r, "schema_count")).sum::<i64>() as f64),
    ];
    for (k, l, v) in items {
        t.push(vec![Cell::from(k), Cell::from(l), Cell::from(v), Cell::from("integer")]);
    }
    Ok(t)
}

/// `connector_status`: every connector with kind, status and last sync, failing first.
pub async fn connector_status(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let rows = sqlx::query(
        "SELECT name, kind, status, last_sync_at FROM connectors WHERE tenant_id = $1 \
         ORDER BY CASE WHEN status = 'healthy' THEN 1 ELSE 0 END, name",
    )
    .bind(ctx.tenant_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut t = Table::new(
        "connector_status",
        "Connectors",
        vec![
            Column::new("connector", "Connector", ColumnKind::Text),
            Column::new("kind", "Type", ColumnKind::Text),
            Column::new("status", "Status", ColumnKind::Text),
            Column::new("last_sync", "Last sync", ColumnKind::Timestamp),
        ],
    );
    for r in &rows {
        t.push(vec![
            Cell::from(get_str(r, "name")),
            Cell::from(get_str(r, "kind")),
            Cell::from(get_str(r, "status")),
            get_opt_i64(r, "last_sync_at").map(|v| Cell::from(iso_instant(v))).unwrap_or(Cell::Null),
        ]);
    }
    Ok(t)
}

/// `pipeline_runs`: the period's runs, failed first, newest first, at most 50.
pub async fn pipeline_runs(ctx: &Ctx<'_>) -> Result<Table, AppError> {
    let w = ctx.window();
    let rows = sqlx::query(
        "SELECT p.name, r.started_at, r.ended_at, r.status, r.rows_in, r.rows_out, r.error \
         FROM pipeline_runs r JOIN pipelines p ON p.id = r.pipeline_id \
         WHERE r.tenant_id = $1 AND r.started_at >= $2 AND r.started_at < $3 \
         ORDER BY CASE WHEN r.status = 'failed' THEN 0 ELSE 1 END, r.started_at DESC LIMIT 50",
    )
    .bind(ctx.tenant_id)
    .bind(w.start)
    .bind(w.end)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut t = Table::new(
        "pipeline_runs",
        "Pipeline runs",
        vec![
            Column::new("pipeline", "Pipeline", ColumnKind::Text),
            Column::new("started", "Started", ColumnKind::Timestamp),
            Column::new("status", "Status", ColumnKind::Text),
            Column::new("rows_in", "Rows in", ColumnKind::Integer),
            Column::new("rows_out", "Rows out", ColumnKind::Integer),
            Column::new("duration", "Duration", ColumnKind::Duration),
            Column::new("error", "Error", ColumnKind::Text),
        ],
    );
    for r in &rows {
        let s = get_i64(r, "started_at");
        t.push(vec![
            Cell::from(get_str(r, "name")),
            Cell::from(iso_instant(s)),
            Cell::from(get_str(r, "status")),
            Cell::from(get_i64(r, "rows_in")),
            Cell::from(get_i64(r, "rows_out")),
            get_opt_i64(r, "ended_at").map(|e| Cell::Int(e - s)).unwrap_or(Cell::Null),
            get_opt_str(r, "error").map(Cell::from).unwrap_or(Cell::Null),
        ]);
    }
    t.note = Some("Failed runs first, then newest; at most 50".into());
    Ok(t)
}
