//! Report assembly: a dashboard view (tenant, dashboard, period, segment, params) becomes a
//! [`Report`] — the same data sources the screen shows, plus the narrative. Export, Run Now and
//! the scheduler all come through here.

use super::render::kpi_lines;
use super::sources::{self, Request};
use super::{narrative, AppState};
use crate::model::{AppError, Column, ColumnKind, Report, Table};

/// What to put in the report besides the data.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A title (a saved report's name); default "<Dashboard> report".
    pub title: Option<String>,
    /// Write a narrative.
    pub narrative: bool,
    /// The template's prompt addendum.
    pub prompt: Option<String>,
    /// Reuse a narrative of the same view written within the hour (one-off exports); saved
    /// reports always write a fresh one.
    pub cache_narrative: bool,
    /// Paper and orientation of the PDF and the printed HTML.
    pub page: crate::model::PageSetup,
}

/// Builds the report for a dashboard view of the caller's tenant.
pub async fn assemble(
    state: &AppState,
    tenant_id: &str,
    tenant_name: &str,
    req: Request<'_>,
    opts: &Options,
) -> Result<Report, AppError> {
    let now = state.clock.now_ms();
    let (params, segment_id) = (req.params.clone(), req.segment_id.map(str::to_string));
    let data = sources::load(&state.db, tenant_id, req, now).await?;
    let segment =
        data.segment_id.as_ref().and_then(|id| data.segments.iter().find(|s| &s.id == id)).map(|s| s.name.clone());
    let mut sections = Vec::new();
    for w in data.widgets {
        sections.push(match (w.table, w.error) {
            (Some(t), _) => t,
            (None, err) => {
                let mut t = Table::new(&w.source, &w.source, vec![Column::new("error", "Error", ColumnKind::Text)]);
                t.note = err;
                t
            }
        });
    }
    let kpis = sections.iter().find(|t| t.col("chip").is_some()).map(kpi_lines).unwrap_or_default();
    let mut report = Report {
        title: opts.title.clone().unwrap_or_else(|| format!("{} report", data.dashboard.title())),
        dashboard: data.dashboard,
        tenant: tenant_name.to_string(),
        period: data.period,
        from: data.from,
        to: data.to,
        timezone: data.timezone,
        segment,
        generated_at: data.generated_at,
        narrative: None,
        kpis,
        sections,
        page: opts.page,
    };
    if opts.narrative {
        let key = format!(
            "export\0{tenant_id}\0{}\0{}\0{}\0{}\0{}",
            report.dashboard.key(),
            report.period.key(),
            segment_id.as_deref().unwrap_or_default(),
            serde_json::to_string(&params).unwrap_or_default(),
            opts.prompt.as_deref().unwrap_or_default()
        );
        let cached = if opts.cache_narrative { state.narrative_cache.get(&key, now) } else { None };
        let n = match cached {
            Some(n) => n,
            None => narrative::narrate(state, tenant_id, &report, opts.prompt.as_deref()).await,
        };
        // A fallback (the provider failed) is not kept: the next export asks the provider again.
        if opts.cache_narrative && !n.fallback {
            state.narrative_cache.put(key, n.clone(), now);
        }
        report.narrative = Some(n);
    }
    Ok(report)
}
