//! Report templates (saved reports, PRODUCT §5–§6): validation at the edge (name, dashboard,
//! period, segment, formats, fallback destinations), the atomic create of a template with its
//! schedule (both or neither, the schedule cap counted inside the transaction), updates (the data
//! sources are fixed at save time; enabling a template again re-anchors its schedules so a stale
//! slot never fires), deletes that cascade to schedules, and an audit entry for every change.

use super::schedules::{self, MAX_SCHEDULES_PER_TENANT};
use super::sources::common::iso_instant;
use super::store::{self, audit, templates::TemplateRow};
use super::{new_id, AppState};
use crate::model::reports::{NarrativeSettings, ScheduleView, SendKind, SendWhen, TemplateInput, TemplateView};
use crate::model::{AppError, Dashboard, FieldError, PageSetup, Period};
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
    page: PageSetup,
    send_when: SendWhen,
}

/// Largest KPI move a send condition may ask for, in percent.
const MAX_CHANGE_PCT: f64 = 10_000.0;

/// The KPI keys and labels of a dashboard view (what a `kpiChange` condition may name), read from
/// the same sources the screen and the report use.
pub async fn kpi_choices(
    state: &AppState,
    tenant_id: &str,
    dashboard: Dashboard,
    period: Period,
) -> Result<Vec<(String, String)>, AppError> {
    let req = super::sources::Request {
        key: dashboard.key(),
        period: Some(period.key()),
        segment_id: None,
        params: BTreeMap::new(),
    };
    let data = super::sources::load(&state.db, tenant_id, req, state.clock.now_ms()).await?;
    Ok(data
        .widgets
        .iter()
        .filter_map(|w| w.table.as_ref())
        .filter(|t| t.col("chip").is_some())
        .flat_map(|t| {
            (0..t.rows.len()).map(move |i| {
                let get = |k: &str| t.cell(i, k).map(|c| c.as_text()).unwrap_or_default();
                (get("metric"), get("label"))
            })
        })
        .collect())
}

/// A send condition: the fields its kind needs, a KPI the dashboard has, a sane threshold; the
/// fields another kind does not use are dropped.
async fn check_send_when(
    state: &AppState,
    tenant_id: &str,
    view: Option<(Dashboard, Period)>,
    rule: SendWhen,
    errs: &mut Vec<FieldError>,
) -> Result<SendWhen, AppError> {
    Ok(match rule.kind {
        SendKind::Always | SendKind::HasData => SendWhen { kind: rule.kind, ..Default::default() },
        SendKind::Anomaly => SendWhen {
            kind: rule.kind,
            min_severity: Some(match rule.min_severity.unwrap_or_default() {
                crate::model::reports::Severity::Info => {
                    errs.push(fe(
                        "sendWhen.minSeverity",
                        "warning or critical (info findings never send on their own)",
                    ));
                    crate::model::reports::Severity::Warning
                }
                s => s,
            }),
            ..Default::default()
        },
        SendKind::KpiChange => {
            match rule.change_pct {
                Some(p) if p.is_finite() && p > 0.0 && p <= MAX_CHANGE_PCT => {}
                _ => errs.push(fe("sendWhen.changePct", "a percentage above 0 and at most 10,000")),
            }
            let kpi = rule.kpi.clone().unwrap_or_default();
            if kpi.is_empty() {
                errs.push(fe("sendWhen.kpi", "choose the KPI to watch"));
            } else if let Some((dashboard, period)) = view {
                let choices = kpi_choices(state, tenant_id, dashboard, period).await?;
                if choices.is_empty() {
                    errs.push(fe("sendWhen.kpi", format!("the {} dashboard has no KPIs to watch", dashboard.title())));
                } else if !choices.iter().any(|(k, _)| *k == kpi) {
                    let keys: Vec<&str> = choices.iter().map(|(k, _)| k.as_str()).collect();
                    errs.push(fe(
                        "sendWhen.kpi",
                        format!("'{kpi}' is not a KPI of this dashboard: one of {}", keys.join(", ")),
                    ));
                }
            }
            SendWhen { kind: rule.kind, kpi: Some(kpi), change_pct: rule.change_pct, min_severity: None }
        }
    })
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
        errs.push(fe("formats", format!("at most 10 entries ({})", super::render::ReportFormat::NAMES)));
    }
    for (i, f) in asked.iter().take(10).enumerate() {
        match super::render::ReportFormat::parse(f) {
            Some(fmt) if !formats.contains(&fmt.extension().to_string()) => formats.push(fmt.extension().into()),
            Some(_) => {}
            None => errs.push(fe(
                &format!("formats[{i}]"),
                format!("'{f}' is not one of {}", super::render::ReportFormat::NAMES),
            )),
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
    let send_when =
        check_send_when(state, tenant_id, dashboard.zip(period), t.send_when.clone().unwrap_or_default(), errs).await?;
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
            page: t.page.unwrap_or_default(),
            send_when,
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
            page: self.page,
            send_when: &self.send_when,
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
    let mut detail = json!({"name": t.name, "dashboard": t.dashboard.key(), "period": t.period.key(), "formats": t.formats,
        "page": t.page, "sendWhen": t.send_when});
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
        page: r.page,
        send_when: r.send_when,
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

/// The templates named by `(tenant, template)` pairs, with their schedules, by template id: two
/// queries for any number (a tick's claim page), read on `conn` (inside the claim's transaction).
pub async fn get_many(
    conn: &mut sqlx::AnyConnection,
    keys: &[(&str, &str)],
) -> Result<std::collections::HashMap<String, TemplateView>, sqlx::Error> {
    let rows = store::templates::get_many(&mut *conn, keys).await?;
    let mut by_template: std::collections::HashMap<String, Vec<ScheduleView>> = Default::default();
    for s in store::schedules::of_templates(conn, keys).await? {
        by_template.entry(s.template_id.clone()).or_default().push(schedules::view(&s));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = by_template.remove(&r.id).unwrap_or_default();
            (r.id.clone(), view(r, mine))
        })
        .collect())
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

/// Updates a template's name, formats, narrative, fallback destinations, enabled flag, page
/// setup and send condition.
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
        page: input.page.or(Some(current.page)),
        send_when: input.send_when.clone().or(Some(current.send_when.clone())),
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
    let detail = json!({"name": t.name, "formats": t.formats, "enabled": t.enabled, "narrative": t.narrative.enabled,
        "page": t.page, "sendWhen": t.send_when});
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "template.update", target_kind: "template", target_id: id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get(state, tenant_id, id).await
}

impl ValidTemplate {
    /// The template as a run would snapshot it, before it is saved.
    fn unsaved_view(&self) -> TemplateView {
        TemplateView {
            id: "preview".into(),
            name: self.name.clone(),
            dashboard: self.dashboard.key().into(),
            period: self.period.key().into(),
            segment_id: self.segment_id.clone(),
            params: self.params.clone(),
            formats: self.formats.clone(),
            narrative: self.narrative.clone(),
            fallback_destinations: self.fallback.clone(),
            enabled: self.enabled,
            page: self.page,
            send_when: self.send_when.clone(),
            created_by: String::new(),
            created_at: String::new(),
            schedules: Vec::new(),
            last_run_status: None,
            last_run_id: None,
        }
    }
}

/// What each of the tenant's destinations `ids` would receive for a template (saved, by id, or as
/// being edited): the report is assembled and rendered once, as a run would, then handed to the same
/// message builders that deliver — nothing is stored or sent, secrets are redacted. A narrative
/// of the same view written within the hour is reused (a preview never asks the AI provider
/// again on every click).
pub async fn preview_delivery(
    state: &AppState,
    tenant_id: &str,
    tenant_name: &str,
    ids: &[String],
    input: crate::model::reports::PreviewInput,
) -> Result<Vec<crate::model::reports::DeliveryPreview>, AppError> {
    let mut dests = Vec::with_capacity(ids.len());
    for id in ids {
        dests.push(super::destinations::get(state, tenant_id, id, false).await?);
    }
    let t = match input.template_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => get(state, tenant_id, id).await?,
        None => {
            let mut errs = Vec::new();
            let v = validate_template(state, tenant_id, &input.template, &mut errs).await?;
            if !errs.is_empty() {
                return Err(AppError::validation(errs));
            }
            v.ok_or_else(AppError::internal)?.unsaved_view()
        }
    };
    let req = super::sources::Request {
        key: &t.dashboard,
        period: Some(&t.period),
        segment_id: t.segment_id.as_deref(),
        params: t.params.clone(),
    };
    let opts = super::report::Options {
        title: Some(t.name.clone()),
        narrative: t.narrative.enabled,
        prompt: t.narrative.prompt.clone(),
        cache_narrative: true,
        page: t.page,
    };
    let report = super::report::assemble(state, tenant_id, tenant_name, req, &opts).await?;
    let files = super::scheduler::runs::render_files(&t, &report).await?;
    let artifacts = files
        .into_iter()
        .map(|(f, filename, sha256, bytes)| super::delivery::Artifact {
            format: f.extension().into(),
            download_url: format!(
                "{}/api/v1/reports/runs/preview/artifacts/{}?expires=…&sig=…",
                state.config.public_url,
                f.extension()
            ),
            filename,
            media_type: f.media_type().into(),
            bytes: std::sync::Arc::new(bytes),
            sha256,
        })
        .collect();
    let wanted = super::scheduler::runs::charts_wanted(state, dests.iter().map(|d| d.destination.kind()));
    let charts = if wanted { super::scheduler::runs::chart_images(&report.sections).await } else { Vec::new() };
    let mut di = super::scheduler::runs::delivery_input(state, "preview", tenant_id, &t, &report, artifacts, charts);
    di.delivery_id = "preview".into();
    let settings = super::destinations::settings(state);
    let quiet = super::narrative::news::decide(&t.send_when, &report).err();
    Ok(dests
        .iter()
        .map(|d| {
            let mut p = super::delivery::preview::preview(&d.destination, &d.view.name, &di, &settings);
            if let Some(why) = &quiet {
                p.warning = Some(format!("A run on today's data would send nothing: {why}."));
            }
            p
        })
        .collect())
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
