//! Team and access (PRODUCT §13): an admin lists, adds, re-roles, disables, re-enables and
//! removes the tenant's users and API keys; everyone changes their own password and sees and ends
//! their own sessions. The last active admin of a tenant can never be demoted, disabled or
//! removed (checked inside the changing transaction, under the tenant's lock, so two admins
//! demoting each other at once cannot leave none). Disabling a user ends their sessions at once;
//! a revoked key stops working on its next request. Every change is audited.

use super::auth::{self, Principal};
use super::sources::common::iso_instant;
use super::store::{self, audit, users::User};
use super::AppState;
use crate::model::team::{
    ApiKeyInput, ApiKeyView, NewApiKey, PasswordChange, SessionView, UserInput, UserStatus, UserView,
};
use crate::model::{AppError, FieldError, Role};
use serde_json::json;

/// Longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Password length bounds.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=256;

fn fe(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// A user as answered.
pub fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        email: u.email.clone(),
        name: u.name.clone(),
        role: u.role,
        status: if u.disabled_at.is_some() { UserStatus::Disabled } else { UserStatus::Active },
        last_sign_in_at: u.last_login_at.map(iso_instant),
        created_at: iso_instant(u.created_at),
    }
}

/// Checks an email address: at most 254 characters, one `@`, a dotted domain (what SMTP accepts).
pub fn check_email(email: &str) -> Result<String, String> {
    let e = email.trim().to_ascii_lowercase();
    if e.len() > MAX_EMAIL {
        return Err(format!("at most {MAX_EMAIL} characters"));
    }
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !e.contains(char::is_whitespace) =>
        {
            Ok(e)
        }
        _ => Err("is not an email address (name@example.com)".into()),
    }
}

fn check_password(field: &str, password: &str, errs: &mut Vec<FieldError>) {
    let n = password.chars().count();
    if !PASSWORD_CHARS.contains(&n) {
        errs.push(fe(field, format!("{}–{} characters", PASSWORD_CHARS.start(), PASSWORD_CHARS.end())));
    }
}

fn check_name(name: &str, errs: &mut Vec<FieldError>) -> String {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 120 {
        errs.push(fe("name", "1–120 characters"));
    }
    n.to_string()
}

async fn hash(password: &str) -> Result<String, AppError> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || auth::hash_password(&pw))
        .await
        .map_err(|e| super::error::internal("password hashing task", e))?
        .map_err(|e| super::error::internal("password hashing", e))
}

/// The tenant's users.
pub async fn list_users(state: &AppState, p: &Principal) -> Result<Vec<UserView>, AppError> {
    p.require(Role::Admin)?;
    Ok(store::users::list(&state.db.pool, &p.tenant_id).await?.iter().map(user_view).collect())
}

/// Adds a user with an initial password the admin passes on.
pub async fn create_user(state: &AppState, p: &Principal, input: UserInput) -> Result<UserView, AppError> {
    p.require(Role::Admin)?;
    let mut errs = Vec::new();
    let email = match input.email.as_deref().map(check_email) {
        Some(Ok(e)) => e,
        Some(Err(m)) => {
            errs.push(fe("email", m));
            String::new()
        }
        None => {
            errs.push(fe("email", "required"));
            String::new()
        }
    };
    let name = check_name(input.name.as_deref().unwrap_or_default(), &mut errs);
    let role = input.role.unwrap_or_else(|| {
        errs.push(fe("role", "required: viewer, editor or admin"));
        Role::Viewer
    });
    let password = input.password.clone().unwrap_or_default();
    check_password("password", &password, &mut errs);
    if input.disabled.is_some() {
        errs.push(fe("disabled", "a new user starts active; disable them afterwards"));
    }
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let hashed = hash(&password).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    let user = match store::users::insert(&mut tx, &p.tenant_id, &email, &name, &hashed, role, now).await {
        Ok(u) => u,
        Err(e) if super::db::is_unique_violation(&e) => {
            return Err(AppError::conflict("a user with this email already exists"));
        }
        Err(e) => return Err(e.into()),
    };
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "user.create",
        target_kind: "user",
        target_id: &user.id,
        detail: json!({"email": email, "role": role}),
    };
    audit::record(&mut *tx, entry, now).await?;
    tx.commit().await?;
    Ok(user_view(&user))
}

/// Changes a user's role, name or disabled flag. Disabling ends their sessions at once. The last
/// active admin cannot be demoted or disabled (422).
pub async fn update_user(state: &AppState, p: &Principal, id: &str, input: UserInput) -> Result<UserView, AppError> {
    p.require(Role::Admin)?;
    let mut errs = Vec::new();
    for (field, given) in [("email", input.email.is_some()), ("password", input.password.is_some())] {
        if given {
            errs.push(fe(field, "cannot be changed here (the user changes their own password in their profile)"));
        }
    }
    let name = input.name.as_deref().map(|n| check_name(n, &mut errs));
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::tenants::lock(&mut tx, &p.tenant_id).await?;
    let cur = store::users::get(&mut *tx, &p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("user"))?;
    let role = input.role.unwrap_or(cur.role);
    let disabled_at = match input.disabled {
        Some(true) => cur.disabled_at.or(Some(now)),
        Some(false) => None,
        None => cur.disabled_at,
    };
    let was_admin = cur.role == Role::Admin && cur.disabled_at.is_none();
    let stays_admin = role == Role::Admin && disabled_at.is_none();
    if was_admin && !stays_admin && store::users::count_active_admins(&mut tx, &p.tenant_id).await? <= 1 {
        let what = if disabled_at.is_some() { "disabled" } else { "demoted" };
        let field = if disabled_at.is_some() { "disabled" } else { "role" };
        return Err(AppError::invalid(
            field,
            format!("{} is the last active admin of this organisation and cannot be {what}; make someone else an admin first", cur.email),
        ));
    }
    let name = name.unwrap_or(cur.name.clone());
    store::users::update(&mut tx, &p.tenant_id, id, &store::users::Change { name: &name, role, disabled_at }).await?;
    let ended = if disabled_at.is_some() && cur.disabled_at.is_none() {
        store::sessions::delete_for_user(&mut tx, id, None).await?
    } else {
        0
    };
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "user.update",
        target_kind: "user",
        target_id: id,
        detail: json!({"role": role, "disabled": disabled_at.is_some(), "name": name, "sessionsEnded": ended}),
    };
    audit::record(&mut *tx, entry, now).await?;
    tx.commit().await?;
    let u = store::users::get(&state.db.pool, &p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("user"))?;
    Ok(user_view(&u))
}

/// Removes a user (their sessions end with them). The last active admin cannot be removed (422).
pub async fn delete_user(state: &AppState, p: &Principal, id: &str) -> Result<(), AppError> {
    p.require(Role::Admin)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::tenants::lock(&mut tx, &p.tenant_id).await?;
    let cur = store::users::get(&mut *tx, &p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("user"))?;
    if cur.role == Role::Admin
        && cur.disabled_at.is_none()
        && store::users::count_active_admins(&mut tx, &p.tenant_id).await? <= 1
    {
        return Err(AppError::invalid(
            "id",
            format!("{} is the last active admin of this organisation and cannot be removed; make someone else an admin first", cur.email),
        ));
    }
    store::sessions::delete_for_user(&mut tx, id, None).await?;
    store::users::delete(&mut tx, &p.tenant_id, id).await?;
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "user.delete",
        target_kind: "user",
        target_id: id,
        detail: json!({"email": cur.email}),
    };
    audit::record(&mut *tx, entry, now).await?;
    tx.commit().await?;
    Ok(())
}

fn key_view(k: &store::api_keys::KeyRow) -> ApiKeyView {
    ApiKeyView {
        id: k.id.clone(),
        name: k.name.clone(),
        role: k.role,
        prefix: k.prefix.clone(),
        created_at: iso_instant(k.created_at),
        created_by: k.created_by.clone(),
        last_used_at: k.last_used_at.map(iso_instant),
        expires_at: k.expires_at.map(iso_instant),
    }
}

/// The tenant's live API keys.
pub async fn list_keys(state: &AppState, p: &Principal) -> Result<Vec<ApiKeyView>, AppError> {
    p.require(Role::Admin)?;
    Ok(store::api_keys::list(&state.db.pool, Some(&p.tenant_id)).await?.iter().map(key_view).collect())
}

/// Creates an API key; the key itself is answered once.
pub async fn create_key(state: &AppState, p: &Principal, input: ApiKeyInput) -> Result<NewApiKey, AppError> {
    p.require(Role::Admin)?;
    let mut errs = Vec::new();
    let name = check_name(input.name.as_deref().unwrap_or_default(), &mut errs);
    let role = input.role.unwrap_or_else(|| {
        errs.push(fe("role", "required: viewer, editor or admin"));
        Role::Viewer
    });
    let now = state.clock.now_ms();
    let expires_at = match input.expires_at.as_deref().map(chrono::DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(t)) if t.timestamp_millis() > now => Some(t.timestamp_millis()),
        Some(Ok(_)) => {
            errs.push(fe("expiresAt", "must be in the future"));
            None
        }
        Some(Err(_)) => {
            errs.push(fe("expiresAt", "an RFC 3339 instant, e.g. 2027-06-30T00:00:00Z"));
            None
        }
    };
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let key = auth::new_api_key();
    let new = store::api_keys::NewKey {
        tenant_id: &p.tenant_id,
        name: &name,
        role,
        key_hash: &auth::token_hash(&key),
        prefix: &key[..8],
        created_by: &p.actor,
        expires_at,
        now,
    };
    let id = store::api_keys::insert(&state.db, &new).await?;
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "apikey.create",
        target_kind: "apikey",
        target_id: &id,
        detail: json!({"name": name, "role": role, "expiresAt": input.expires_at}),
    };
    audit::record_db(&state.db, entry, now).await?;
    let row = store::api_keys::get(&state.db.pool, &p.tenant_id, &id).await?.ok_or_else(AppError::internal)?;
    Ok(NewApiKey { view: key_view(&row), key })
}

/// Revokes a key of the tenant; it stops working on its next request.
pub async fn revoke_key(state: &AppState, p: &Principal, id: &str) -> Result<(), AppError> {
    p.require(Role::Admin)?;
    let now = state.clock.now_ms();
    if !store::api_keys::revoke(&state.db.pool, Some(&p.tenant_id), id, now).await? {
        return Err(AppError::not_found("API key"));
    }
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "apikey.revoke",
        target_kind: "apikey",
        target_id: id,
        detail: json!({}),
    };
    audit::record_db(&state.db, entry, now).await?;
    Ok(())
}

fn signed_in_user(p: &Principal) -> Result<&str, AppError> {
    p.user_id
        .as_deref()
        .ok_or_else(|| AppError::forbidden("API keys have no password or sessions; sign in as a person"))
}

/// Changes the caller's own password (the current one required); every other session ends.
pub async fn change_password(state: &AppState, p: &Principal, input: PasswordChange) -> Result<(), AppError> {
    let user_id = signed_in_user(p)?;
    let mut errs = Vec::new();
    check_password("newPassword", &input.new_password, &mut errs);
    if input.new_password == input.current_password {
        errs.push(fe("newPassword", "must differ from the current password"));
    }
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let user =
        store::users::get(&state.db.pool, &p.tenant_id, user_id).await?.ok_or_else(|| AppError::not_found("user"))?;
    if !auth::verify_limited(state, &user.password_hash, &input.current_password).await? {
        return Err(AppError::invalid("currentPassword", "is not your current password"));
    }
    let hashed = hash(&input.new_password).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    store::users::set_password(&mut tx, user_id, &hashed).await?;
    let ended = store::sessions::delete_for_user(&mut tx, user_id, p.session_hash.as_deref()).await?;
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "user.password",
        target_kind: "user",
        target_id: user_id,
        detail: json!({"otherSessionsEnded": ended}),
    };
    audit::record(&mut *tx, entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The caller's live sessions, the current one marked.
pub async fn my_sessions(state: &AppState, p: &Principal) -> Result<Vec<SessionView>, AppError> {
    let user_id = signed_in_user(p)?;
    let rows = store::sessions::list_for_user(&state.db.pool, user_id, state.clock.now_ms()).await?;
    Ok(rows
        .iter()
        .map(|s| SessionView {
            id: s.id.clone(),
            created_at: iso_instant(s.created_at),
            last_seen_at: s.last_seen_at.map(iso_instant),
            expires_at: iso_instant(s.expires_at),
            user_agent: s.user_agent.clone(),
            current: p.session_hash.as_deref() == Some(s.token_hash.as_str()),
        })
        .collect())
}

/// Signs the caller out everywhere (this session included); returns how many sessions ended.
pub async fn sign_out_everywhere(state: &AppState, p: &Principal) -> Result<u64, AppError> {
    let user_id = signed_in_user(p)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    let ended = store::sessions::delete_for_user(&mut tx, user_id, None).await?;
    let entry = audit::Entry {
        tenant_id: &p.tenant_id,
        actor: &p.actor,
        action: "user.sign_out_everywhere",
        target_kind: "user",
        target_id: user_id,
        detail: json!({"sessionsEnded": ended}),
    };
    audit::record(&mut *tx, entry, now).await?;
    tx.commit().await?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_shape_and_length() {
        assert_eq!(check_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        assert!(check_email(&format!("{}@example.com", "a".repeat(250))).unwrap_err().contains("254"));
        for bad in ["ana", "ana@", "@example.com", "ana@localhost", "a b@example.com", "a@b@example.com"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
