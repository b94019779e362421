//! Data sources: one function per widget, `(tenant, period, segment, params) -> Table`,
//! registered under a stable key. Dashboards and report sections call the same functions, so an
//! export always equals the screen.

pub mod anomalies;
pub mod attribution;
pub mod business;
pub mod common;
pub mod daily;
pub mod data_health;
pub mod executive;
pub mod kpis;
pub mod model_health;
pub mod operations;

use crate::engine::Db;
use crate::model::{AppError, Dashboard, DashboardData, Period, SegmentOption, Table, WidgetData};
pub use common::Ctx;
use std::collections::BTreeMap;
use std::time::Instant;

/// Every source key, for validation.
pub fn all_keys() -> Vec<&'static str> {
    Dashboard::ALL.iter().flat_map(|d| d.widgets().iter().map(|w| w.source)).collect()
}

/// Runs one source by key.
pub async fn run(key: &str, ctx: &Ctx<'_>) -> Result<Table, AppError> {
    match key {
        "kpi_summary" => executive::kpi_summary(ctx).await,
        "anomalies" => anomalies::source(ctx).await,
        "segment_offer_heatmap" => executive::segment_offer_heatmap(ctx).await,
        "business_kpis" => business::business_kpis(ctx).await,
        "offer_performance" => business::offer_performance(ctx).await,
        "channel_effectiveness" => business::channel_effectiveness(ctx).await,
        "funnel" => business::funnel(ctx).await,
        "daily_trend" => business::daily_trend(ctx).await,
        "revenue_trend" => business::revenue_trend(ctx).await,
        "selection_frequency" => business::selection_frequency(ctx).await,
        "budget_burn" => business::budget_burn(ctx).await,
        "ops_kpis" => operations::ops_kpis(ctx).await,
        "latency_distribution" => operations::latency_distribution(ctx).await,
        "latency_trend" => operations::latency_trend(ctx).await,
        "acceptance_by_offer" => operations::acceptance_by_offer(ctx).await,
        "decision_pipeline" => operations::decision_pipeline(ctx).await,
        "breaker_states" => operations::breaker_states(ctx).await,
        "dlq_depth" => operations::dlq_depth(ctx).await,
        "model_auc_trend" => model_health::model_auc_trend(ctx).await,
        "model_auc_summary" => model_health::model_auc_summary(ctx).await,
        "model_drift" => model_health::model_drift(ctx).await,
        "feature_importance" => model_health::feature_importance(ctx).await,
        "experiments" => model_health::experiments(ctx).await,
        "data_health_kpis" => data_health::data_health_kpis(ctx).await,
        "connector_status" => data_health::connector_status(ctx).await,
        "pipeline_runs" => data_health::pipeline_runs(ctx).await,
        "attribution_by_channel" => attribution::attribution_by_channel(ctx).await,
        "attribution_by_offer" => attribution::attribution_by_offer(ctx).await,
        "attribution_comparison" => attribution::attribution_comparison(ctx).await,
        other => Err(AppError::invalid("source", format!("unknown data source '{other}'"))),
    }
}

/// The inputs of a dashboard request, parsed at the edge.
pub struct Request<'a> {
    /// Dashboard key as sent.
    pub key: &'a str,
    /// Period key as sent (None = default).
    pub period: Option<&'a str>,
    /// Segment id as sent.
    pub segment_id: Option<&'a str>,
    /// Source parameters.
    pub params: BTreeMap<String, String>,
}

/// Parses and checks a dashboard request: unknown dashboard or period → 422; a segment that is
/// not the tenant's → 404 (another tenant's ids are never acknowledged).
pub async fn parse(
    db: &Db,
    tenant_id: &str,
    req: &Request<'_>,
) -> Result<(Dashboard, Period, Option<String>, Vec<SegmentOption>), AppError> {
    let dashboard = Dashboard::parse(req.key).ok_or_else(|| {
        AppError::invalid("dashboard", format!("unknown dashboard '{}': expected one of executive, business, operations, model-health, data-health, attribution", req.key))
    })?;
    let period = match req.period {
        None | Some("") => Period::default(),
        Some(p) => Period::parse(p).ok_or_else(|| {
            AppError::invalid("period", format!("unknown period '{p}': expected today, 7d, 14d, 30d or 90d"))
        })?,
    };
    let segments: Vec<SegmentOption> = crate::engine::store::catalogue::list_segments(db, tenant_id)
        .await?
        .into_iter()
        .map(|s| SegmentOption { id: s.id, name: s.name })
        .collect();
    let segment = match req.segment_id.filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => {
            if !segments.iter().any(|s| s.id == id) {
                return Err(AppError::not_found("segment"));
            }
            dashboard.supports_segment().then(|| id.to_string())
        }
    };
    Ok((dashboard, period, segment, segments))
}

/// Loads every widget of a dashboard; a failing widget carries its own error.
pub async fn load(db: &Db, tenant_id: &str, req: Request<'_>, now: i64) -> Result<DashboardData, AppError> {
    let (dashboard, period, segment_id, segments) = parse(db, tenant_id, &req).await?;
    let memo = common::Memo::default();
    let ctx = Ctx { db, tenant_id, period, segment_id: segment_id.as_deref(), now, params: &req.params, memo: &memo };
    let w = ctx.window();
    let mut widgets = Vec::new();
    for spec in dashboard.widgets() {
        let result = run(spec.source, &ctx).await;
        widgets.push(match result {
            Ok(t) => WidgetData { source: spec.source.into(), table: Some(t), error: None },
            Err(e) => {
                tracing::warn!(event = "source.failed", source = spec.source, tenant.id = %tenant_id, error.message = %e, "data source failed");
                WidgetData { source: spec.source.into(), table: None, error: Some(format!("This widget could not be loaded: {}", e.message)) }
            }
        });
    }
    Ok(DashboardData {
        dashboard,
        period,
        from: common::iso_day(w.start),
        to: common::iso_day(w.end - crate::engine::rollups::DAY_MS),
        timezone: "UTC".into(),
        segment_id,
        segments,
        generated_at: common::iso_instant(now),
        widgets,
    })
}

/// What a warm-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmed {
    /// Tenants whose dashboards were loaded.
    pub tenants: usize,
    /// Dashboard × period loads made.
    pub loads: usize,
    /// Milliseconds it took.
    pub ms: u128,
}

/// Loads every dashboard at every period for each tenant, so that the first person to open one
/// after a start-up (or after the day rolls over) finds every past day of its window, and of the
/// previous window its comparisons use, in the day cache. A cold load sums every rollup row of its
/// window — about half a second for Executive 90 days at 10 million interactions — and a warm one
/// reads today's rows only. The loads run one after another, so warming never takes more than one
/// request's worth of the machine; it stops early rather than overfill the day cache (which would
/// start afresh and undo it), and a tenant whose load fails is skipped, not retried.
pub async fn warm(db: &Db, now: i64) -> Result<Warmed, AppError> {
    let started = Instant::now();
    let tenants = crate::engine::store::tenants::list(db).await?;
    let mut warmed = Warmed { tenants: 0, loads: 0, ms: 0 };
    for tenant in tenants {
        if db.day_cache.len() > daily::MAX_ENTRIES / 2 {
            break;
        }
        for dashboard in Dashboard::ALL {
            for period in Period::ALL {
                let req = Request {
                    key: dashboard.key(),
                    period: Some(period.key()),
                    segment_id: None,
                    params: Default::default(),
                };
                if let Err(e) = load(db, &tenant.id, req, now).await {
                    tracing::warn!(event = "dashboards.warm_failed", tenant.id = %tenant.id, error.message = %e, "warming a dashboard failed");
                }
                warmed.loads += 1;
            }
        }
        warmed.tenants += 1;
    }
    warmed.ms = started.elapsed().as_millis();
    db.day_cache.warmed();
    Ok(warmed)
}
