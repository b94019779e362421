//! Report templates (saved reports, PRODUCT §5–§6): validation at the edge (name, dashboard,
//! period, segment, formats, fallback destinations), the atomic create of a template with its
//! schedule (both or neither, the schedule cap counted inside the transaction), updates (the data
//! sources are fixed at save time; enabling a template again re-anchors its schedules so a stale
//! slot never fires), deletes that cascade to schedules, and an audit entry for every change.

use super::schedules::{self, MAX_SCHEDULES_PER_TENANT};
use super::sources::common::iso_instant;
use super::store::{self, audit, templates::TemplateRow};
use super::{new_id, AppState};
use crate::model::reports::{NarrativeSettings, ScheduleView, TemplateInput, TemplateView};
use crate::model::{AppError, Dashboard, FieldError, Period};
use serde_json::json;
use std::collections::BTreeMap;

/// Most source parameters a template keeps (`groupBy`, `model`, …).
pub const MAX_PARAMS: usize = 10;

/// The dashboard parameters of a template or an export: at most [`MAX_PARAMS`], short names and
/// values.
pub fn check_params(params: &std::collections::BTreeMap<String, String>) -> Result<(), FieldError> {
    if params.len() > MAX_PARAMS || params.iter().any(|(k, v)| k.chars().count() > 64 || v.chars().count() > 200) {
        return Err(fe(
            "params",
            format!("at most {MAX_PARAMS} parameters, names up to 64 characters and values up to 200"),
        ));
    }
    Ok(())
}

fn fe(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

struct ValidTemplate {
    name: String,
    dashboard: Dashboard,
    period: Period,
    segment_id: Option<String>,
    params: BTreeMap<String, String>,
    formats: Vec<String>,
    narrative: NarrativeSettings,
    fallback: Vec<String>,
    enabled: bool,
}

async fn validate_template(
    state: &AppState,
    tenant_id: &str,
    t: &TemplateInput,
    errs: &mut Vec<FieldError>,
) -> Result<Option<ValidTemplate>, AppError> {
    let name = t.name.clone().unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errs.push(fe("name", "required, at most 200 characters"));
    }
    let dashboard = Dashboard::parse(t.dashboard.as_deref().unwrap_or_default());
    if dashboard.is_none() {
        errs.push(fe("dashboard", "one of executive, business, operations, model-health, data-health, attribution"));
    }
    let period = Period::parse(t.period.as_deref().unwrap_or("7d"));
    if period.is_none() {
        errs.push(fe("period", "one of today, 7d, 14d, 30d, 90d"));
    }
    if let Some(seg) = t.segment_id.as_deref().filter(|s| !s.is_empty()) {
        let found = sqlx::query("SELECT id FROM segments WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(seg)
            .fetch_optional(&state.db.pool)
            .await?;
        if found.is_none() {
            return Err(AppError::not_found("segment"));
        }
    }
    let mut formats: Vec<String> = Vec::new();
    let asked = t.formats.clone().unwrap_or_else(|| vec!["pdf".into()]);
    if asked.len() > 10 {
        errs.push(fe("formats", "at most 10 entries (pdf, csv, md, html)"));
    }
    for (i, f) in asked.iter().take(10).enumerate() {
        match super::render::ReportFormat::parse(f) {
            Some(fmt) if !formats.contains(&fmt.extension().to_string()) => formats.push(fmt.extension().into()),
            Some(_) => {}
            None => errs.push(fe(&format!("formats[{i}]"), format!("'{f}' is not one of pdf, csv, md, html"))),
        }
    }
    if formats.is_empty() && !errs.iter().any(|e| e.field.starts_with("formats")) {
        errs.push(fe("formats", "choose at least one format"));
    }
    let fallback = schedules::dedup_destinations(
        "fallbackDestinations",
        t.fallback_destinations.clone().unwrap_or_default(),
        errs,
    );
    let params = t.params.clone().unwrap_or_default();
    if let Err(e) = check_params(&params) {
        errs.push(e);
    }
    schedules::check_destinations(state, tenant_id, "fallbackDestinations", &fallback, errs).await?;
    let narrative = t.narrative.clone().unwrap_or_default();
    if narrative.prompt.as_deref().is_some_and(|p| p.chars().count() > 2000) {
        errs.push(fe("narrative.prompt", "at most 2,000 characters"));
    }
    Ok(match (dashboard, period) {
        (Some(dashboard), Some(period)) => Some(ValidTemplate {
            name,
            dashboard,
            period,
            segment_id: t.segment_id.clone().filter(|s| !s.is_empty() && dashboard.supports_segment()),
            params,
            formats,
            narrative,
            fallback,
            enabled: t.enabled.unwrap_or(true),
        }),
        _ => None,
    })
}

impl ValidTemplate {
    fn fields(&self) -> store::templates::Fields<'_> {
        store::templates::Fields {
            name: &self.name,
            dashboard: self.dashboard.key(),
            period: self.period.key(),
            segment_id: self.segment_id.as_deref(),
            params: &self.params,
            formats: &self.formats,
            narrative_enabled: self.narrative.enabled,
            narrative_prompt: self.narrative.prompt.as_deref(),
            fallback_destinations: &self.fallback,
            enabled: self.enabled,
        }
    }
}

/// Creates a template, and its schedule if given, in one transaction (both or neither).
pub async fn create(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    input: TemplateInput,
) -> Result<TemplateView, AppError> {
    let mut errs = Vec::new();
    let t = validate_template(state, tenant_id, &input, &mut errs).await?;
    let s = match &input.schedule {
        Some(s) => schedules::validate(state, tenant_id, s, "schedule.", &mut errs).await?,
        None => None,
    };
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let t = t.ok_or_else(AppError::internal)?;
    let (id, now) = (new_id(), state.clock.now_ms());
    let mut tx = state.db.pool.begin().await?;
    store::tenants::lock(&mut tx, tenant_id).await?;
    store::templates::insert(&mut tx, &id, tenant_id, &t.fields(), actor, now).await?;
    let mut detail =
        json!({"name": t.name, "dashboard": t.dashboard.key(), "period": t.period.key(), "formats": t.formats});
    if let Some(s) = &s {
        let sid = new_id();
        if !store::schedules::insert_capped(&mut tx, &s.new_row(&sid, tenant_id, &id, now), MAX_SCHEDULES_PER_TENANT)
            .await?
        {
            tx.rollback().await?;
            return Err(schedules::cap_error("schedule"));
        }
        detail["schedule"] = json!({"id": sid, "cron": s.cron.as_str(), "timezone": s.timezone});
    }
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "template.create", target_kind: "template", target_id: &id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get(state, tenant_id, &id).await
}

fn view(r: TemplateRow, schedules: Vec<ScheduleView>) -> TemplateView {
    TemplateView {
        id: r.id,
        name: r.name,
        dashboard: r.dashboard,
        period: r.period,
        segment_id: r.segment_id,
        params: r.params,
        formats: r.formats,
        narrative: NarrativeSettings { enabled: r.narrative_enabled, prompt: r.narrative_prompt },
        fallback_destinations: r.fallback_destinations,
        enabled: r.enabled,
        created_by: r.created_by,
        created_at: iso_instant(r.created_at),
        schedules,
        last_run_status: r.last_run_status,
        last_run_id: r.last_run_id,
    }
}

/// One template of the tenant, with its schedules; 404 otherwise.
pub async fn get(state: &AppState, tenant_id: &str, id: &str) -> Result<TemplateView, AppError> {
    let row =
        store::templates::get(&state.db.pool, tenant_id, id).await?.ok_or_else(|| AppError::not_found("template"))?;
    let s = schedules::list(state, tenant_id, Some(id)).await?;
    Ok(view(row, s))
}

/// The tenant's templates, newest first.
pub async fn list(state: &AppState, tenant_id: &str) -> Result<Vec<TemplateView>, AppError> {
    let rows = store::templates::list(&state.db.pool, tenant_id).await?;
    let all = schedules::list(state, tenant_id, None).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = all.iter().filter(|s| s.template_id == r.id).cloned().collect();
            view(r, mine)
        })
        .collect())
}

/// Updates a template's name, formats, narrative, fallback destinations and enabled flag.
/// The data sources (dashboard, period, segment, params) are fixed at save time. Enabling a
/// disabled template re-anchors its schedules to their next slot from now.
pub async fn update(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    id: &str,
    input: TemplateInput,
) -> Result<TemplateView, AppError> {
    let current = get(state, tenant_id, id).await?;
    let mut errs = Vec::new();
    for (field, changed) in [
        ("dashboard", input.dashboard.as_ref().is_some_and(|d| *d != current.dashboard)),
        ("period", input.period.as_ref().is_some_and(|p| *p != current.period)),
    ] {
        if changed {
            errs.push(fe(field, "the data of a saved report is fixed; save a fresh copy from the dashboard"));
        }
    }
    let merged = TemplateInput {
        name: input.name.clone().or(Some(current.name.clone())),
        dashboard: Some(current.dashboard.clone()),
        period: Some(current.period.clone()),
        segment_id: current.segment_id.clone(),
        params: Some(current.params.clone()),
        formats: input.formats.clone().or(Some(current.formats.clone())),
        narrative: input.narrative.clone().or(Some(current.narrative.clone())),
        fallback_destinations: input.fallback_destinations.clone().or(Some(current.fallback_destinations.clone())),
        enabled: input.enabled.or(Some(current.enabled)),
        schedule: None,
    };
    let t = validate_template(state, tenant_id, &merged, &mut errs).await?;
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let t = t.ok_or_else(AppError::internal)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::templates::update(&mut tx, tenant_id, id, &t.fields(), now).await?;
    if t.enabled && !current.enabled {
        for s in current.schedules.iter().filter(|s| s.enabled && s.parked_reason.is_none()) {
            let next = super::scheduler::cron::CronSpec::parse(&s.cron_expression)
                .ok()
                .zip(super::scheduler::cron::parse_zone(&s.timezone).ok())
                .and_then(|(c, tz)| schedules::next_slot(state, &c, tz));
            store::schedules::set_next(&mut tx, &s.id, next).await?;
        }
    }
    let detail = json!({"name": t.name, "formats": t.formats, "enabled": t.enabled, "narrative": t.narrative.enabled});
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "template.update", target_kind: "template", target_id: id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get(state, tenant_id, id).await
}

/// Deletes a template and its schedules (runs and their artifacts stay, immutable).
pub async fn delete(state: &AppState, tenant_id: &str, actor: &str, id: &str) -> Result<(), AppError> {
    get(state, tenant_id, id).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::schedules::delete_of_template(&mut tx, tenant_id, id).await?;
    store::templates::delete(&mut tx, tenant_id, id).await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            tenant_id,
            actor,
            action: "template.delete",
            target_kind: "template",
            target_id: id,
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
