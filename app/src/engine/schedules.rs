//! Schedules of saved reports (PRODUCT §5, §7): validation at the edge (cron, zone, minimum
//! interval, destinations), the per-tenant cap counted inside the insert's transaction, edits
//! that recompute `nextRunAt` only when the timing changed (and otherwise never write it, so an
//! edit cannot undo a concurrent claim), deletes, and the live "next runs" preview. Every change
//! is audited.

use super::scheduler::cron::{parse_zone, CronSpec};
use super::sources::common::iso_instant;
use super::store::{self, audit, schedules::ScheduleRow};
use super::{new_id, AppState};
use crate::model::reports::{ScheduleInput, ScheduleView};
use crate::model::runs::RunStatus;
use crate::model::{AppError, FieldError};
use serde_json::json;

/// Most schedules one tenant may have.
pub const MAX_SCHEDULES_PER_TENANT: i64 = 100;
/// Most destinations one schedule (or a template's fallback list) may name.
pub const MAX_DESTINATIONS: usize = 20;

/// A list of destination ids de-duplicated (first occurrence kept) and capped at
/// [`MAX_DESTINATIONS`]: past the cap, a field error.
pub fn dedup_destinations(field: &str, ids: Vec<String>, errs: &mut Vec<FieldError>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let out: Vec<String> = ids.into_iter().filter(|id| seen.insert(id.clone())).collect();
    if out.len() > MAX_DESTINATIONS {
        errs.push(fe(field, format!("at most {MAX_DESTINATIONS} destinations (got {})", out.len())));
    }
    out
}

fn fe(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// The error of a tenant at its schedule cap.
pub fn cap_error(field: &str) -> AppError {
    AppError::validation(vec![fe(
        field,
        format!("this organisation already has {MAX_SCHEDULES_PER_TENANT} schedules, the maximum"),
    )])
}

/// A validated schedule.
pub struct ValidSchedule {
    /// Name.
    pub name: String,
    /// Cron.
    pub cron: CronSpec,
    /// Zone.
    pub timezone: String,
    /// Destinations.
    pub destinations: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// First slot from now (None when disabled).
    pub next_run_at: Option<i64>,
}

impl ValidSchedule {
    /// The row to insert.
    pub fn new_row<'a>(
        &'a self,
        id: &'a str,
        tenant_id: &'a str,
        template_id: &'a str,
        now: i64,
    ) -> store::schedules::NewSchedule<'a> {
        store::schedules::NewSchedule {
            id,
            tenant_id,
            template_id,
            name: &self.name,
            cron: self.cron.as_str(),
            timezone: &self.timezone,
            destinations: &self.destinations,
            enabled: self.enabled,
            next_run_at: self.next_run_at,
            now,
        }
    }
}

/// Checks destination ids belong to the tenant and are not deleted.
pub async fn check_destinations(
    state: &AppState,
    tenant_id: &str,
    field: &str,
    ids: &[String],
    errs: &mut Vec<FieldError>,
) -> Result<(), AppError> {
    for (i, id) in ids.iter().enumerate().take(MAX_DESTINATIONS) {
        match store::destinations::get(&state.db.pool, tenant_id, id).await? {
            Some(d) if d.deleted_at.is_none() => {}
            _ => errs.push(fe(&format!("{field}[{i}]"), format!("no destination '{id}' in this organisation"))),
        }
    }
    Ok(())
}

/// The next slot of a cron in a zone after now, in epoch ms.
pub fn next_slot(state: &AppState, cron: &CronSpec, tz: chrono_tz::Tz) -> Option<i64> {
    let now = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap_or_default();
    cron.next_after(now, tz).map(|t| t.timestamp_millis())
}

/// Validates a schedule (`prefix` is "schedule." inside a template body).
pub async fn validate(
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
    let destinations = dedup_destinations(&f("destinations"), s.destinations.clone().unwrap_or_default(), errs);
    check_destinations(state, tenant_id, &f("destinations"), &destinations, errs).await?;
    let enabled = s.enabled.unwrap_or(true);
    let (Some(cron), Some(tz)) = (cron, tz) else { return Ok(None) };
    let Some(next) = next_slot(state, &cron, tz) else {
        errs.push(fe(
            &f("cronExpression"),
            format!("'{}' never fires (no matching date in the next five years)", cron.as_str()),
        ));
        return Ok(None);
    };
    let min = state.config.min_interval_minutes;
    let now = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap_or_default();
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
        next_run_at: enabled.then_some(next),
    }))
}

/// A schedule row as answered.
pub fn view(r: &ScheduleRow) -> ScheduleView {
    ScheduleView {
        id: r.id.clone(),
        template_id: r.template_id.clone(),
        name: r.name.clone(),
        description: CronSpec::parse(&r.cron).map(|c| c.describe(&r.timezone)).unwrap_or_else(|_| r.cron.clone()),
        cron_expression: r.cron.clone(),
        timezone: r.timezone.clone(),
        destinations: r.destinations.clone(),
        enabled: r.enabled,
        next_run_at: r.next_run_at.map(iso_instant),
        parked_reason: r.parked_reason.clone(),
        last_status: r.last_status.as_deref().and_then(RunStatus::parse),
        last_error: r.last_error.clone(),
    }
}

/// The schedules of a template (or all of the tenant's when `template_id` is None).
pub async fn list(state: &AppState, tenant_id: &str, template_id: Option<&str>) -> Result<Vec<ScheduleView>, AppError> {
    Ok(store::schedules::list(&state.db.pool, tenant_id, template_id).await?.iter().map(view).collect())
}

/// One schedule of the tenant; 404 otherwise.
pub async fn get(state: &AppState, tenant_id: &str, id: &str) -> Result<ScheduleView, AppError> {
    store::schedules::get(&state.db.pool, tenant_id, id)
        .await?
        .map(|r| view(&r))
        .ok_or_else(|| AppError::not_found("schedule"))
}

/// Creates a schedule for a template of the tenant (refused at the cap, counted in the insert's
/// transaction under the tenant's lock).
pub async fn create(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    input: ScheduleInput,
) -> Result<ScheduleView, AppError> {
    let template_id = input.template_id.clone().ok_or_else(|| AppError::invalid("templateId", "required"))?;
    super::templates::get(state, tenant_id, &template_id).await?;
    let mut errs = Vec::new();
    let s = validate(state, tenant_id, &input, "", &mut errs).await?;
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let s = s.ok_or_else(AppError::internal)?;
    let (id, now) = (new_id(), state.clock.now_ms());
    let mut tx = state.db.pool.begin().await?;
    store::tenants::lock(&mut tx, tenant_id).await?;
    if !store::schedules::insert_capped(
        &mut tx,
        &s.new_row(&id, tenant_id, &template_id, now),
        MAX_SCHEDULES_PER_TENANT,
    )
    .await?
    {
        tx.rollback().await?;
        return Err(cap_error("templateId"));
    }
    let detail = json!({"templateId": template_id, "cron": s.cron.as_str(), "timezone": s.timezone});
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "schedule.create", target_kind: "schedule", target_id: &id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get(state, tenant_id, &id).await
}

/// Updates a schedule; a change to cron, zone or enabled recomputes `nextRunAt` from now, and
/// any other edit leaves it as stored.
pub async fn update(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    id: &str,
    input: ScheduleInput,
) -> Result<ScheduleView, AppError> {
    let cur = get(state, tenant_id, id).await?;
    let merged = ScheduleInput {
        template_id: None,
        name: input.name.clone().or(Some(cur.name.clone())),
        cron_expression: input.cron_expression.clone().or(Some(cur.cron_expression.clone())),
        timezone: input.timezone.clone().or(Some(cur.timezone.clone())),
        destinations: input.destinations.clone().or(Some(cur.destinations.clone())),
        enabled: input.enabled.or(Some(cur.enabled)),
    };
    let mut errs = Vec::new();
    let s = validate(state, tenant_id, &merged, "", &mut errs).await?;
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let s = s.ok_or_else(AppError::internal)?;
    let timing_changed =
        s.cron.as_str() != cur.cron_expression || s.timezone != cur.timezone || s.enabled != cur.enabled;
    let now = state.clock.now_ms();
    let edit = store::schedules::Edit {
        name: &s.name,
        cron: s.cron.as_str(),
        timezone: &s.timezone,
        destinations: &s.destinations,
        enabled: s.enabled,
        next_run_at: timing_changed.then_some(s.next_run_at),
        now,
    };
    let mut tx = state.db.pool.begin().await?;
    store::schedules::update(&mut tx, tenant_id, id, &edit).await?;
    let detail =
        json!({"cron": s.cron.as_str(), "timezone": s.timezone, "enabled": s.enabled, "destinations": s.destinations});
    audit::record(
        &mut *tx,
        audit::Entry { tenant_id, actor, action: "schedule.update", target_kind: "schedule", target_id: id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    get(state, tenant_id, id).await
}

/// Deletes a schedule.
pub async fn delete(state: &AppState, tenant_id: &str, actor: &str, id: &str) -> Result<(), AppError> {
    get(state, tenant_id, id).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::schedules::delete(&mut tx, tenant_id, id).await?;
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
