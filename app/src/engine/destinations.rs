//! Notification destinations (PRODUCT §9): parsed and validated per kind at the edge, secrets
//! (Slack/Teams webhook URLs, webhook signing secret and header values) sealed at rest, answered
//! redacted, and tested with a real message. Deleting keeps the row (soft delete) so runs that
//! referenced it can report it as skipped with a reason.

use super::crypto::{self, PLACEHOLDER};
use super::delivery::{self, DeliveryInput, Destination, Settings};
use super::store::{self, audit};
use super::{new_id, AppState};
use crate::model::{AppError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// `POST/PATCH /notifications/destinations` body.
#[derive(utoipa::ToSchema, Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DestinationInput {
    /// `slack`, `teams`, `email`, `webhook` (not changeable on PATCH).
    #[serde(default)]
    pub kind: Option<String>,
    /// 1–120 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Paused destinations are skipped.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Kind-specific configuration.
    #[serde(default)]
    pub config: Option<Value>,
}

/// A destination as every API answers it: secrets redacted.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Enabled (not paused).
    pub enabled: bool,
    /// Configuration with secrets replaced by the placeholder.
    pub config: Value,
    /// A safe one-line summary (host, recipients).
    pub summary: String,
    /// Last update, epoch ms.
    pub updated_at: i64,
}

/// The parsed configuration: public part (stored as JSON) and secret part (sealed).
struct Parsed {
    public: Value,
    secret: BTreeMap<String, Value>,
    summary: String,
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

fn url_field(cfg: &Value, key: &str, allow_private: bool, errs: &mut Vec<FieldError>) -> Option<String> {
    let field = format!("config.{key}");
    match cfg.get(key).and_then(Value::as_str).map(str::trim) {
        None | Some("") => {
            errs.push(err(&field, "required"));
            None
        }
        Some(u) => match super::outbound::check_url(u, allow_private) {
            Ok(url) => Some(url.to_string()),
            Err(e) => {
                errs.push(err(&field, e.to_string()));
                None
            }
        },
    }
}

fn email_ok(s: &str) -> bool {
    s.parse::<lettre::Address>().is_ok()
}

/// Most custom headers a webhook may send.
pub const MAX_HEADERS: usize = 20;

/// The origin (scheme, host, port) of a URL, to tell whether an edit moves a webhook elsewhere.
fn origin_of(u: &str) -> Option<String> {
    url::Url::parse(u).ok().map(|u| u.origin().ascii_serialization())
}

/// Validates a kind's configuration, merging placeholders with the stored secrets. A webhook's
/// stored signing secret and header values are kept only while its URL stays on the same origin:
/// moving it to another host requires entering them again, so no secret follows a typo or a
/// hijacked edit to a server it was never meant for.
fn parse(
    kind: &str,
    cfg: &Value,
    old_secret: &BTreeMap<String, Value>,
    old_public: &Value,
    allow_private: bool,
) -> Result<Parsed, Vec<FieldError>> {
    let mut errs = Vec::new();
    // A placeholder means "keep the stored value".
    let secret_or_old = |key: &str| -> Option<Value> {
        match cfg.get(key) {
            Some(Value::String(s)) if s == PLACEHOLDER => old_secret.get(key).cloned(),
            other => other.cloned(),
        }
    };
    let mut secret = BTreeMap::new();
    let (public, summary) = match kind {
        "slack" | "teams" => {
            let merged = json!({ "webhookUrl": secret_or_old("webhookUrl") });
            let url = url_field(&merged, "webhookUrl", allow_private, &mut errs);
            let host = url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            if let Some(u) = url {
                secret.insert("webhookUrl".to_string(), Value::String(u));
            }
            (json!({}), host)
        }
        "webhook" => {
            let url = url_field(cfg, "url", allow_private, &mut errs);
            if let Some(s) =
                secret_or_old("secret").and_then(|v| v.as_str().map(str::to_string)).filter(|s| !s.is_empty())
            {
                if s.len() < 16 {
                    errs.push(err("config.secret", "a signing secret needs at least 16 characters"));
                }
                secret.insert("secret".into(), Value::String(s));
            }
            let mut headers = BTreeMap::new();
            if let Some(h) = cfg.get("headers") {
                match h.as_object() {
                    None => errs.push(err("config.headers", "an object of header names to values")),
                    Some(map) => {
                        for (k, v) in map {
                            let value = match v.as_str() {
                                Some(p) if p == PLACEHOLDER => old_secret
                                    .get("headers")
                                    .and_then(|o| o.get(k))
                                    .and_then(Value::as_str)
                                    .map(str::to_string),
                                Some(s) => Some(s.to_string()),
                                None => None,
                            };
                            let valid_name = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                            match value {
                                Some(v) if valid_name && !v.contains(['\r', '\n']) => {
                                    headers.insert(k.clone(), Value::String(v));
                                }
                                _ => errs.push(err(
                                    &format!("config.headers.{k}"),
                                    "a header name of letters, digits and '-' with a text value",
                                )),
                            }
                        }
                    }
                }
            }
            if headers.len() > MAX_HEADERS {
                errs.push(err("config.headers", format!("at most {MAX_HEADERS} headers")));
            }
            let kept_secret =
                cfg.get("secret").and_then(Value::as_str) == Some(PLACEHOLDER) && old_secret.contains_key("secret");
            let kept_headers = cfg
                .get("headers")
                .and_then(Value::as_object)
                .is_some_and(|m| m.values().any(|v| v.as_str() == Some(PLACEHOLDER)));
            let old_origin = old_public.get("url").and_then(Value::as_str).and_then(origin_of);
            let moved = matches!((&old_origin, url.as_deref().and_then(origin_of)), (Some(a), Some(b)) if *a != b);
            if moved && kept_secret {
                errs.push(err("config.secret", "the URL moved to another host: enter the signing secret again"));
            }
            if moved && kept_headers {
                errs.push(err("config.headers", "the URL moved to another host: enter the header values again"));
            }
            secret.insert("headers".into(), Value::Object(headers.into_iter().collect()));
            let host = url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            (json!({ "url": url.unwrap_or_default() }), host)
        }
        "email" => {
            let from = cfg.get("from").and_then(Value::as_str).unwrap_or_default().trim().to_string();
            if !email_ok(&from) {
                errs.push(err("config.from", "a valid email address"));
            }
            let to: Vec<String> = cfg
                .get("to")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(|s| s.trim().to_string())).collect())
                .unwrap_or_default();
            if to.is_empty() || to.len() > 50 {
                errs.push(err("config.to", "between 1 and 50 recipients"));
            }
            for (i, t) in to.iter().enumerate() {
                if !email_ok(t) {
                    errs.push(err(&format!("config.to[{i}]"), format!("'{t}' is not a valid email address")));
                }
            }
            let reply_to =
                cfg.get("replyTo").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
            if reply_to.as_deref().is_some_and(|r| !email_ok(r)) {
                errs.push(err("config.replyTo", "a valid email address"));
            }
            let summary = format!("{} recipient(s)", to.len());
            (json!({ "from": from, "to": to, "replyTo": reply_to }), summary)
        }
        other => {
            errs.push(err("kind", format!("'{other}' is not one of slack, teams, email, webhook")));
            (json!({}), String::new())
        }
    };
    if errs.is_empty() {
        Ok(Parsed { public, secret, summary })
    } else {
        Err(errs)
    }
}

fn redacted(kind: &str, public: &Value, secret: &BTreeMap<String, Value>) -> Value {
    let mut v = public.clone();
    let obj = v.as_object_mut().expect("config is an object");
    match kind {
        "slack" | "teams" => {
            obj.insert("webhookUrl".into(), json!(PLACEHOLDER));
        }
        "webhook" => {
            obj.insert("secret".into(), json!(if secret.contains_key("secret") { PLACEHOLDER } else { "" }));
            let headers: serde_json::Map<String, Value> = secret
                .get("headers")
                .and_then(Value::as_object)
                .map(|m| m.keys().map(|k| (k.clone(), json!(PLACEHOLDER))).collect())
                .unwrap_or_default();
            obj.insert("headers".into(), Value::Object(headers));
        }
        _ => {}
    }
    v
}

fn check_name(name: &str, errs: &mut Vec<FieldError>) {
    let n = name.trim().chars().count();
    if n == 0 || n > 120 {
        errs.push(err("name", "required, 1–120 characters"));
    }
}

/// A stored destination with its secrets opened (server memory only).
pub struct Stored {
    /// The redacted view.
    pub view: DestinationView,
    /// Soft-deleted at, if deleted.
    pub deleted_at: Option<i64>,
    /// The delivery adapter's configuration.
    pub destination: Destination,
}

fn load_row(state: &AppState, tenant_id: &str, r: &store::destinations::DestinationRow) -> Result<Stored, AppError> {
    let kind = r.kind.clone();
    let public: Value = serde_json::from_str(&r.config).unwrap_or(json!({}));
    let secret: BTreeMap<String, Value> = match &r.secret_sealed {
        Some(s) => serde_json::from_str(
            &crypto::open(state.config.secret_key.as_ref(), s, &crypto::destination_context(tenant_id, &r.id))
                .map_err(|e| super::error::internal("destination secret", e))?,
        )
        .unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let destination = match kind.as_str() {
        "slack" => Destination::Slack {
            webhook_url: secret.get("webhookUrl").and_then(Value::as_str).unwrap_or_default().into(),
        },
        "teams" => Destination::Teams {
            webhook_url: secret.get("webhookUrl").and_then(Value::as_str).unwrap_or_default().into(),
        },
        "email" => Destination::Email {
            from: s(&public, "from"),
            to: public
                .get("to")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            reply_to: public.get("replyTo").and_then(Value::as_str).map(str::to_string),
        },
        _ => Destination::Webhook {
            url: s(&public, "url"),
            secret: secret.get("secret").and_then(Value::as_str).map(str::to_string),
            headers: secret
                .get("headers")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                .unwrap_or_default(),
        },
    };
    let summary = match &destination {
        Destination::Slack { webhook_url } | Destination::Teams { webhook_url } => {
            url::Url::parse(webhook_url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
        }
        Destination::Email { to, .. } => format!("{} recipient(s)", to.len()),
        Destination::Webhook { url, .. } => {
            url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
        }
    };
    Ok(Stored {
        view: DestinationView {
            id: r.id.clone(),
            kind: kind.clone(),
            name: r.name.clone(),
            enabled: r.enabled,
            config: redacted(&kind, &public, &secret),
            summary,
            updated_at: r.updated_at,
        },
        deleted_at: r.deleted_at,
        destination,
    })
}

/// Re-seals secrets of the first version (`v1`, unbound) as `v2`, bound to their tenant and row;
/// returns how many. Run at start when a key is configured.
pub async fn reseal_legacy(state: &AppState) -> Result<u64, AppError> {
    let key = state.config.secret_key.as_ref();
    let mut n = 0;
    for (tenant_id, id, sealed) in store::destinations::legacy_secrets(&state.db.pool).await? {
        let ctx = crypto::destination_context(&tenant_id, &id);
        let plain = crypto::open(key, &sealed, &ctx).map_err(|e| super::error::internal("destination secret", e))?;
        let fresh = crypto::seal(key, &plain, &ctx).map_err(|e| super::error::internal("destination secret", e))?;
        store::destinations::replace_secret(&state.db.pool, &id, &sealed, &fresh).await?;
        n += 1;
    }
    Ok(n)
}

/// The tenant's destinations (not deleted), by name, as `role` may see them.
pub async fn list(
    state: &AppState,
    tenant_id: &str,
    role: crate::model::Role,
) -> Result<Vec<DestinationView>, AppError> {
    let rows = store::destinations::list(&state.db.pool, tenant_id).await?;
    rows.iter().map(|r| load_row(state, tenant_id, r).map(|s| visible_to(s.view, role))).collect()
}

/// A destination as `role` may see it: secrets are always redacted; below admin, a webhook's URL
/// is too (only its origin shows), since paths and queries often carry tokens.
pub fn visible_to(mut view: DestinationView, role: crate::model::Role) -> DestinationView {
    if role < crate::model::Role::Admin {
        if let Some(u) = view.config.get("url").and_then(Value::as_str).map(str::to_string) {
            let shown = origin_of(&u).map(|o| format!("{o}/{PLACEHOLDER}")).unwrap_or_else(|| PLACEHOLDER.into());
            view.config["url"] = json!(shown);
        }
    }
    view
}

/// One destination of the tenant (deleted ones included when `with_deleted`); 404 otherwise.
pub async fn get(state: &AppState, tenant_id: &str, id: &str, with_deleted: bool) -> Result<Stored, AppError> {
    let row = store::destinations::get(&state.db.pool, tenant_id, id).await?;
    let stored =
        row.map(|r| load_row(state, tenant_id, &r)).transpose()?.ok_or_else(|| AppError::not_found("destination"))?;
    if stored.deleted_at.is_some() && !with_deleted {
        return Err(AppError::not_found("destination"));
    }
    Ok(stored)
}

/// The operator's sender policy at save time: without `NARRATE_SMTP_FROM`, a tenant's address is
/// the sender, so it must be in `NARRATE_SMTP_ALLOWED_FROM_DOMAINS` when that is set.
fn check_sender(state: &AppState, kind: &str, public: &Value) -> Result<(), AppError> {
    let allowed = &state.config.smtp_allowed_from_domains;
    let from = public.get("from").and_then(Value::as_str).unwrap_or_default();
    if kind == "email"
        && state.config.smtp_from.is_none()
        && !allowed.is_empty()
        && !delivery::domain_allowed(from, allowed)
    {
        return Err(AppError::invalid(
            "config.from",
            format!("this server sends only as addresses at {}", allowed.join(", ")),
        ));
    }
    Ok(())
}

fn seal_secret(state: &AppState, context: &str, secret: &BTreeMap<String, Value>) -> Result<Option<String>, AppError> {
    if secret.is_empty() {
        return Ok(None);
    }
    let plain = serde_json::to_string(secret).map_err(|e| super::error::internal("destination secret", e))?;
    crypto::seal(state.config.secret_key.as_ref(), &plain, context)
        .map(Some)
        .map_err(|e| AppError::invalid("config", e.to_string()))
}

/// Creates a destination (admin).
pub async fn create(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    input: DestinationInput,
) -> Result<DestinationView, AppError> {
    let kind = input.kind.clone().unwrap_or_default();
    let name = input.name.clone().unwrap_or_default();
    let mut errs = Vec::new();
    check_name(&name, &mut errs);
    let parsed = parse(
        &kind,
        input.config.as_ref().unwrap_or(&json!({})),
        &BTreeMap::new(),
        &json!({}),
        state.config.allow_private_destinations,
    );
    let parsed = match parsed {
        Ok(p) if errs.is_empty() => p,
        Ok(_) => return Err(AppError::validation(errs)),
        Err(mut e) => {
            errs.append(&mut e);
            return Err(AppError::validation(errs));
        }
    };
    check_sender(state, &kind, &parsed.public)?;
    let (id, now) = (new_id(), state.clock.now_ms());
    let sealed = seal_secret(state, &crypto::destination_context(tenant_id, &id), &parsed.secret)?;
    let mut tx = state.db.pool.begin().await?;
    let public = parsed.public.to_string();
    let fields = store::destinations::Fields {
        name: name.trim(),
        enabled: input.enabled.unwrap_or(true),
        config: &public,
        secret_sealed: sealed.as_deref(),
    };
    store::destinations::insert(&mut tx, &id, tenant_id, &kind, &fields, now).await?;
    let detail = json!({"kind": kind, "name": name.trim(), "summary": parsed.summary});
    audit::record(
        &mut *tx,
        audit::Entry {
            tenant_id,
            actor,
            action: "destination.create",
            target_kind: "destination",
            target_id: &id,
            detail,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(get(state, tenant_id, &id, false).await?.view)
}

/// Updates name, enabled and/or configuration (admin); placeholders keep stored secrets.
pub async fn update(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    id: &str,
    input: DestinationInput,
) -> Result<DestinationView, AppError> {
    let current = get(state, tenant_id, id, false).await?;
    let mut errs = Vec::new();
    if input.kind.as_deref().is_some_and(|k| k != current.view.kind) {
        errs.push(err("kind", "the kind of a destination cannot change; create a new one"));
    }
    let name = input.name.clone().unwrap_or(current.view.name.clone());
    check_name(&name, &mut errs);
    let row = store::destinations::get(&state.db.pool, tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("destination"))?;
    let old_secret: BTreeMap<String, Value> = match &row.secret_sealed {
        Some(s) => serde_json::from_str(
            &crypto::open(state.config.secret_key.as_ref(), s, &crypto::destination_context(tenant_id, id))
                .map_err(|e| super::error::internal("destination secret", e))?,
        )
        .unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let old_public: Value = serde_json::from_str(&row.config).unwrap_or(json!({}));
    let cfg = match &input.config {
        Some(c) => c.clone(),
        None => redacted(&current.view.kind, &old_public, &old_secret),
    };
    let parsed =
        match parse(&current.view.kind, &cfg, &old_secret, &old_public, state.config.allow_private_destinations) {
            Ok(p) if errs.is_empty() => p,
            Ok(_) => return Err(AppError::validation(errs)),
            Err(mut e) => {
                errs.append(&mut e);
                return Err(AppError::validation(errs));
            }
        };
    check_sender(state, &current.view.kind, &parsed.public)?;
    let sealed = seal_secret(state, &crypto::destination_context(tenant_id, id), &parsed.secret)?;
    let now = state.clock.now_ms();
    let enabled = input.enabled.unwrap_or(current.view.enabled);
    let mut tx = state.db.pool.begin().await?;
    let public = parsed.public.to_string();
    let fields =
        store::destinations::Fields { name: name.trim(), enabled, config: &public, secret_sealed: sealed.as_deref() };
    store::destinations::update(&mut tx, tenant_id, id, &fields, now).await?;
    let detail = json!({"name": name.trim(), "enabled": enabled, "configChanged": input.config.is_some()});
    audit::record(
        &mut *tx,
        audit::Entry {
            tenant_id,
            actor,
            action: "destination.update",
            target_kind: "destination",
            target_id: id,
            detail,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(get(state, tenant_id, id, false).await?.view)
}

/// Soft-deletes a destination (admin); schedules that still name it report it as skipped.
pub async fn delete(state: &AppState, tenant_id: &str, actor: &str, id: &str) -> Result<(), AppError> {
    get(state, tenant_id, id, false).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::destinations::soft_delete(&mut tx, tenant_id, id, now).await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            tenant_id,
            actor,
            action: "destination.delete",
            target_kind: "destination",
            target_id: id,
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The outcome of a Test.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TestOutcome {
    /// Delivered or accepted.
    pub ok: bool,
    /// `delivered`, `accepted` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The error, when failed (no secrets).
    pub error: Option<String>,
}

/// Delivery settings from configuration.
pub fn settings(state: &AppState) -> Settings {
    Settings {
        allow_private: state.config.allow_private_destinations,
        smtp_url: state.config.smtp_url.clone(),
        smtp_from: state.config.smtp_from.clone(),
        allowed_from_domains: state.config.smtp_allowed_from_domains.clone(),
        ..Settings::default()
    }
}

/// Sends a test message to a destination (admin) and reports the destination's own outcome.
pub async fn test(state: &AppState, tenant_id: &str, actor: &str, id: &str) -> Result<TestOutcome, AppError> {
    let stored = get(state, tenant_id, id, false).await?;
    let now = state.clock.now_ms();
    state.rate_limits.take(super::limits::Action::DestinationTest, tenant_id, actor, now)?;
    let generated = super::sources::common::iso_instant(now);
    let input = DeliveryInput {
        delivery_id: format!("test-{}", new_id()),
        run_id: "test".into(),
        tenant_id: tenant_id.into(),
        template_id: "test".into(),
        template_name: format!("Test message for {}", stored.view.name),
        schedule_id: None,
        status: crate::model::runs::RunStatus::Succeeded,
        period: "test".into(),
        generated_at: generated,
        narrative: None,
        sections: Vec::new(),
        kpis: Vec::new(),
        charts: Vec::new(),
        headline_chart: None,
        artifacts: Vec::new(),
        run_url: format!("{}/settings/integrations", state.config.public_url),
        is_test: true,
    };
    let mut quick = settings(state);
    quick.max_attempts = 2;
    quick.max_total = std::time::Duration::from_secs(30);
    let outcome = delivery::deliver(&stored.destination, &input, &quick, |_| {}).await;
    let ok = outcome.status.reached();
    let status = outcome.status.as_str().to_string();
    let detail = json!({"status": status, "attempts": outcome.attempts});
    audit::record_db(
        &state.db,
        audit::Entry {
            tenant_id,
            actor,
            action: "destination.test",
            target_kind: "destination",
            target_id: id,
            detail,
        },
        now,
    )
    .await?;
    Ok(TestOutcome { ok, status, attempts: outcome.attempts, error: outcome.error })
}
