//! Report templates and their schedules: validation at the edge (name, dashboard, period,
//! segment, formats, destinations, cron, zone, minimum interval, per-tenant cap), the atomic
//! create of a template with its schedule, updates that recompute `nextRunAt`, deletes that
//! cascade to schedules, and an audit entry for every change.

use super::cron::{parse_zone, CronSpec};
use super::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use super::sources::common::iso_instant;
use super::store::audit;
use super::{new_id, AppState};
use crate::model::reports::{NarrativeSettings, ScheduleInput, ScheduleView, TemplateInput, TemplateView};
use crate::model::{AppError, Dashboard, FieldError, Period};
use serde_json::json;
use std::collections::BTreeMap;

/// Most schedules one tenant may have.
pub const MAX_SCHEDULES_PER_TENANT: i64 = 100;

fn fe(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// A validated schedule.
pub struct ValidSchedule {
    name: String,
    cron: CronSpec,
    timezone: String,
    destinations: Vec<String>,
    enabled: bool,
    next_run_at: Option<i64>,
}

/// Checks destination ids belong to the tenant and are not deleted.
async fn check_destinations(
    state: &AppState,
    tenant_id: &str,
    field: &str,
    ids: &[String],
    errs: &mut Vec<FieldError>,
) -> Result<(), AppError> {
    for (i, id) in ids.iter().enumerate() {
        let row = sqlx::query("SELECT deleted_at FROM destinations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&state.db.pool)
            .await?;
        match row {
            Some(r) if get_opt_i64(&r, "deleted_at").is_none() => {}
            _ => errs.push(fe(&format!("{field}[{i}]"), format!("no destination '{id}' in this organisation"))),
        }
    }
    Ok(())
}

/// Validates a schedule (`prefix` is "schedule." inside a template body).
pub async fn validate_schedule(
    state: &AppState,
    tenant_id: &str,
    s: &ScheduleInput,
    prefix: &str,
    errs: &mut Vec<FieldError>,
) -> Result<Option<ValidSchedule>, AppError> {
    let f = |k: &str| format!("{prefix}{k}");
    let name = s.name.clone().unwrap_or_else(|| "Schedule".into()).trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errs.push(fe(&f("name"), "1–200 characters"));
    }
    let tz_name = s.timezone.clone().unwrap_or_else(|| "UTC".into());
    let tz = parse_zone(&tz_name).map_err(|m| errs.push(fe(&f("timezone"), m))).ok();
    let cron = match s.cron_expression.as_deref() {
        None => {
            errs.push(fe(&f("cronExpression"), "required, e.g. 0 8 * * 1"));
            None
        }
        Some(c) => CronSpec::parse(c).map_err(|e| errs.push(fe(&f("cronExpression"), e.to_string()))).ok(),
    };
    let destinations = s.destinations.clone().unwrap_or_default();
    check_destinations(state, tenant_id, &f("destinations"), &destinations, errs).await?;
    let enabled = s.enabled.unwrap_or(true);
    let (Some(cron), Some(tz)) = (cron, tz) else { return Ok(None) };
    let now = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap_or_default();
    let next = cron.next_after(now, tz);
    if next.is_none() {
        errs.push(fe(
            &f("cronExpression"),
            format!("'{}' never fires (no matching date in the next five years)", cron.as_str()),
        ));
        return Ok(None);
    }
    let min = state.config.min_interval_minutes;
    if let Some(gap) = cron.min_interval(now, tz) {
        if gap.num_minutes() < min {
            errs.push(fe(
                &f("cronExpression"),
                format!("fires every {} minute(s); the minimum interval is {min} minutes", gap.num_minutes()),
            ));
        }
    }
    Ok(Some(ValidSchedule {
        name,
        cron,
        timezone: tz_name,
        destinations,
        enabled,
        next_run_at: next.filter(|_| enabled).map(|t| t.timestamp_millis()),
    }))
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
    for (i, f) in t.formats.clone().unwrap_or_else(|| vec!["pdf".into()]).iter().enumerate() {
        match super::render::ReportFormat::parse(f) {
            Some(fmt) if !formats.contains(&fmt.extension().to_string()) => formats.push(fmt.extension().into()),
            Some(_) => {}
            None => errs.push(fe(&format!("formats[{i}]"), format!("'{f}' is not one of pdf, csv, md, html"))),
        }
    }
    if formats.is_empty() && !errs.iter().any(|e| e.field.starts_with("formats")) {
        errs.push(fe("formats", "choose at least one format"));
    }
    let fallback = t.fallback_destinations.clone().unwrap_or_default();
    check_destinations(state, tenant_id, "fallbackDestinations", &fallback, errs).await?;
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
            params: t.params.clone().unwrap_or_default(),
            formats,
            narrative,
            fallback,
            enabled: t.enabled.unwrap_or(true),
        }),
        _ => None,
    })
}

async fn count_schedules(state: &AppState, tenant_id: &str) -> Result<i64, AppError> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM report_schedules WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(get_i64(&r, "n"))
}

async fn insert_schedule(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    template_id: &str,
    s: &ValidSchedule,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO report_schedules (id, tenant_id, template_id, name, cron, timezone, destinations, enabled, next_run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(template_id)
    .bind(&s.name)
    .bind(s.cron.as_str())
    .bind(&s.timezone)
    .bind(serde_json::to_string(&s.destinations).unwrap_or_default())
    .bind(i64::from(s.enabled))
    .bind(s.next_run_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
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
        Some(s) => validate_schedule(state, tenant_id, s, "schedule.", &mut errs).await?,
        None => None,
    };
    if input.schedule.is_some() && count_schedules(state, tenant_id).await? >= MAX_SCHEDULES_PER_TENANT {
        errs.push(fe(
            "schedule",
            format!("this organisation already has {MAX_SCHEDULES_PER_TENANT} schedules, the maximum"),
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let t = t.ok_or_else(AppError::internal)?;
    let (id, now) = (new_id(), state.clock.now_ms());
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO report_templates (id, tenant_id, name, dashboard, period, segment_id, params, formats, narrative_enabled, narrative_prompt, \
         fallback_destinations, enabled, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&t.name)
    .bind(t.dashboard.key())
    .bind(t.period.key())
    .bind(t.segment_id.as_deref())
    .bind(serde_json::to_string(&t.params).unwrap_or_default())
    .bind(serde_json::to_string(&t.formats).unwrap_or_default())
    .bind(i64::from(t.narrative.enabled))
    .bind(t.narrative.prompt.as_deref())
    .bind(serde_json::to_string(&t.fallback).unwrap_or_default())
    .bind(i64::from(t.enabled))
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let mut detail =
        json!({"name": t.name, "dashboard": t.dashboard.key(), "period": t.period.key(), "formats": t.formats});
    if let Some(s) = &s {
        let sid = insert_schedule(&mut tx, tenant_id, &id, s, now).await?;
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

fn schedule_view(r: &sqlx::any::AnyRow) -> ScheduleView {
    let cron = get_str(r, "cron");
    let tz = get_str(r, "timezone");
    ScheduleView {
        id: get_str(r, "id"),
        template_id: get_str(r, "template_id"),
        name: get_str(r, "name"),
        description: CronSpec::parse(&cron).map(|c| c.describe(&tz)).unwrap_or_else(|_| cron.clone()),
        cron_expression: cron,
        timezone: tz,
        destinations: serde_json::from_str(&get_str(r, "destinations")).unwrap_or_default(),
        enabled: get_i64(r, "enabled") != 0,
        next_run_at: get_opt_i64(r, "next_run_at").map(iso_instant),
        parked_reason: get_opt_str(r, "parked_reason"),
        last_status: get_opt_str(r, "last_status"),
    }
}

const SCHEDULE_COLS: &str =
    "id, template_id, name, cron, timezone, destinations, enabled, next_run_at, parked_reason, last_status";

/// The schedules of a template (or all of the tenant's when `template_id` is None).
pub async fn schedules(
    state: &AppState,
    tenant_id: &str,
    template_id: Option<&str>,
) -> Result<Vec<ScheduleView>, AppError> {
    let sql = format!(
        "SELECT {SCHEDULE_COLS} FROM report_schedules WHERE tenant_id = $1{} ORDER BY created_at, id",
        if template_id.is_some() { " AND template_id = $2" } else { "" }
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
    if let Some(t) = template_id {
        q = q.bind(t);
    }
    Ok(q.fetch_all(&state.db.pool).await?.iter().map(schedule_view).collect())
}

fn template_view(r: &sqlx::any::AnyRow, schedules: Vec<ScheduleView>) -> TemplateView {
    TemplateView {
        id: get_str(r, "id"),
        name: get_str(r, "name"),
        dashboard: get_str(r, "dashboard"),
        period: get_str(r, "period"),
        segment_id: get_opt_str(r, "segment_id"),
        params: serde_json::from_str(&get_str(r, "params")).unwrap_or_default(),
        formats: serde_json::from_str(&get_str(r, "formats")).unwrap_or_default(),
        narrative: NarrativeSettings {
            enabled: get_i64(r, "narrative_enabled") != 0,
            prompt: get_opt_str(r, "narrative_prompt"),
        },
        fallback_destinations: serde_json::from_str(&get_str(r, "fallback_destinations")).unwrap_or_default(),
        enabled: get_i64(r, "enabled") != 0,
        created_by: get_str(r, "created_by"),
        created_at: iso_instant(get_i64(r, "created_at")),
        schedules,
        last_run_status: get_opt_str(r, "last_status"),
        last_run_id: get_opt_str(r, "last_run_id"),
    }
}

const TEMPLATE_SELECT: &str = "SELECT t.id, t.name, t.dashboard, t.period, t.segment_id, t.params, t.formats, t.narrative_enabled, t.narrative_prompt, \
     t.fallback_destinations, t.enabled, t.created_by, t.created_at, \
     (SELECT r.status FROM report_runs r WHERE r.template_id = t.id ORDER BY r.queued_at DESC, r.id DESC LIMIT 1) AS last_status, \
     (SELECT r.id FROM report_runs r WHERE r.template_id = t.id ORDER BY r.queued_at DESC, r.id DESC LIMIT 1) AS last_run_id \
     FROM report_templates t";

/// One template of the tenant, with its schedules; 404 otherwise.
pub async fn get(state: &AppState, tenant_id: &str, id: &str) -> Result<TemplateView, AppError> {
    let sql = format!("{TEMPLATE_SELECT} WHERE t.tenant_id = $1 AND t.id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| AppError::not_found("template"))?;
    let s = schedules(state, tenant_id, Some(id)).await?;
    Ok(template_view(&row, s))
}

/// The tenant's templates, newest first.
pub async fn list(state: &AppState, tenant_id: &str) -> Result<Vec<TemplateView>, AppError> {
    let sql = format!("{TEMPLATE_SELECT} WHERE t.tenant_id = $1 ORDER BY t.created_at DESC, t.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(&state.db.pool).await?;
    let all = schedules(state, tenant_id, None).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id = get_str(r, "id");
            template_view(r, all.iter().filter(|s| s.template_id == id).cloned().collect())
        })
        .collect())
}

/// Updates a template's name, formats, narrative, fallback destinations and enabled flag.
/// The data sources (dashboard, period, segment, params) are fixed at save time.
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
    sqlx::query(
        "UPDATE report_templates SET name = $1, formats = $2, narrative_enabled = $3, narrative_prompt = $4, fallback_destinations = $5, enabled = $6, updated_at = $7 \
         WHERE id = $8 AND tenant_id = $9",
    )
    .bind(&t.name)
    .bind(serde_json::to_string(&t.formats).unwrap_or_default())
    .bind(i64::from(t.narrative.enabled))
    .bind(t.narrative.prompt.as_deref())
    .bind(serde_json::to_string(&t.fallback).unwrap_or_default())
    .bind(i64::from(t.enabled))
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
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
    sqlx::query("DELETE FROM report_schedules WHERE template_id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM report_templates WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
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

/// One schedule of the tenant; 404 otherwise.
pub async fn get_schedule(state: &AppState, tenant_id: &str, id: &str) -> Result<ScheduleView, AppError> {
    let sql = format!("SELECT {SCHEDULE_COLS} FROM report_schedules WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(id).fetch_optional(&state.db.pool).await?;
    row.map(|r| schedule_view(&r)).ok_or_else(|| AppError::not_found("schedule"))
}

/// Creates a schedule for a template of the tenant.
pub async fn create_schedule(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    input: ScheduleInput,
) -> Result<ScheduleView, AppError> {
    let template_id = input.template_id.clone().ok_or_else(|| AppError::invalid("templateId", "required"))?;
    get(state, tenant_id, &template_id).await?;
    let mut errs = Vec::new();
    let s = validate_schedule(state, tenant_id, &input, "", &mut errs).await?;
    if count_schedules(state, tenant_id).await? >= MAX_SCHEDULES_PER_TENANT {
        errs.push(fe(
            "templateId",
            format!("this organisation already has {MAX_SCHEDULES_PER_TENANT} schedules, the maximum"),
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let s = s.ok_or_else(AppError::internal)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    let id = insert_schedule(&mut tx, tenant_id, &template_id, &s, now).await?;
    let detail = json!({"templateId": template_id, "cron": s.cron.as_str(), "timezone": s.timezone});
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "schedule.create", target_kind: "schedule", target_id: &id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get_schedule(state, tenant_id, &id).await
}

/// Updates a schedule; any change to cron, zone or enabled recomputes `nextRunAt` from now.
pub async fn update_schedule(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    id: &str,
    input: ScheduleInput,
) -> Result<ScheduleView, AppError> {
    let cur = get_schedule(state, tenant_id, id).await?;
    let merged = ScheduleInput {
        template_id: None,
        name: input.name.clone().or(Some(cur.name.clone())),
        cron_expression: input.cron_expression.clone().or(Some(cur.cron_expression.clone())),
        timezone: input.timezone.clone().or(Some(cur.timezone.clone())),
        destinations: input.destinations.clone().or(Some(cur.destinations.clone())),
        enabled: input.enabled.or(Some(cur.enabled)),
    };
    let mut errs = Vec::new();
    let s = validate_schedule(state, tenant_id, &merged, "", &mut errs).await?;
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let s = s.ok_or_else(AppError::internal)?;
    let timing_changed =
        s.cron.as_str() != cur.cron_expression || s.timezone != cur.timezone || s.enabled != cur.enabled;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    let next = if timing_changed {
        s.next_run_at
    } else {
        cur.next_run_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
    };
    sqlx::query(
        "UPDATE report_schedules SET name = $1, cron = $2, timezone = $3, destinations = $4, enabled = $5, next_run_at = $6, parked_reason = NULL, updated_at = $7 \
         WHERE id = $8 AND tenant_id = $9",
    )
    .bind(&s.name)
    .bind(s.cron.as_str())
    .bind(&s.timezone)
    .bind(serde_json::to_string(&s.destinations).unwrap_or_default())
    .bind(i64::from(s.enabled))
    .bind(next)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    let detail =
        json!({"cron": s.cron.as_str(), "timezone": s.timezone, "enabled": s.enabled, "destinations": s.destinations});
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "schedule.update", target_kind: "schedule", target_id: id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get_schedule(state, tenant_id, id).await
}

/// Deletes a schedule.
pub async fn delete_schedule(state: &AppState, tenant_id: &str, actor: &str, id: &str) -> Result<(), AppError> {
    get_schedule(state, tenant_id, id).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM report_schedules WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            tenant_id,
            actor,
            action: "schedule.delete",
            target_kind: "schedule",
            target_id: id,
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The next `count` firings of a cron in a zone (the modal's live preview).
pub fn preview(state: &AppState, cron: &str, timezone: &str, count: usize) -> Result<Vec<String>, AppError> {
    let mut errs = Vec::new();
    let spec = CronSpec::parse(cron).map_err(|e| errs.push(fe("cron", e.to_string()))).ok();
    let tz = parse_zone(timezone).map_err(|m| errs.push(fe("timezone", m))).ok();
    if !(1..=200).contains(&count) {
        errs.push(fe("count", "between 1 and 200"));
    }
    let (Some(spec), Some(tz)) = (spec, tz) else { return Err(AppError::validation(errs)) };
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let now = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap_or_default();
    let next: Vec<String> =
        spec.upcoming(now, tz, count).iter().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).collect();
    if next.is_empty() {
        return Err(AppError::invalid("cron", format!("'{}' never fires", spec.as_str())));
    }
    Ok(next)
}
