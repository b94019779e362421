//! The tenant's AI provider settings (admin): read with secrets redacted, update with the
//! placeholder keeping a stored secret, and test with a tiny real request.

use super::crypto::{self, PLACEHOLDER};
use super::db::{get_opt_str, get_str};
use super::narrative::providers::{self, ProviderKind};
use super::AppState;
use crate::model::{AppError, FieldError};
use serde::{Deserialize, Serialize};

/// `GET/PUT /ai/provider` body.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AiProviderView {
    /// `builtin`, `openai`, `anthropic`, `gemini`, `bedrock`.
    pub provider: String,
    /// Model name (empty: the provider's default).
    #[serde(default)]
    pub model: String,
    /// Base URL override.
    #[serde(default)]
    pub base_url: String,
    /// Bedrock region.
    #[serde(default)]
    pub region: String,
    /// API key (Bedrock: access key id); answered as the placeholder when set.
    #[serde(default)]
    pub api_key: String,
    /// Bedrock secret access key; answered as the placeholder when set.
    #[serde(default)]
    pub secret: String,
    /// Where the effective configuration comes from: `tenant`, `environment` or `builtin`.
    #[serde(default)]
    pub source: String,
}

/// The current settings, secrets redacted.
pub async fn get(state: &AppState, tenant_id: &str) -> Result<AiProviderView, AppError> {
    let row = sqlx::query("SELECT provider, model, base_url, region, api_key_sealed, secret_sealed FROM ai_providers WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(&state.db.pool)
        .await?;
    let redact = |v: Option<String>| if v.is_some() { PLACEHOLDER.to_string() } else { String::new() };
    Ok(match row {
        Some(r) => AiProviderView {
            provider: get_str(&r, "provider"),
            model: get_opt_str(&r, "model").unwrap_or_default(),
            base_url: get_opt_str(&r, "base_url").unwrap_or_default(),
            region: get_opt_str(&r, "region").unwrap_or_default(),
            api_key: redact(get_opt_str(&r, "api_key_sealed")),
            secret: redact(get_opt_str(&r, "secret_sealed")),
            source: "tenant".into(),
        },
        None => {
            let c = &state.config;
            let env = c.ai_provider.clone().filter(|p| ProviderKind::parse(p).is_some());
            AiProviderView {
                provider: env.clone().unwrap_or_else(|| "builtin".into()),
                model: c.ai_model.clone().unwrap_or_default(),
                base_url: c.ai_base_url.clone().unwrap_or_default(),
                region: String::new(),
                api_key: redact(c.ai_api_key.clone()),
                secret: String::new(),
                source: if env.is_some() { "environment".into() } else { "builtin".into() },
            }
        }
    })
}

/// Validates and stores new settings; the placeholder keeps the stored secret.
pub async fn put(
    state: &AppState,
    tenant_id: &str,
    actor: &str,
    body: AiProviderView,
) -> Result<AiProviderView, AppError> {
    let mut errs = Vec::new();
    let kind = ProviderKind::parse(&body.provider);
    if kind.is_none() {
        errs.push(FieldError {
            field: "provider".into(),
            message: "one of builtin, openai, anthropic, gemini, bedrock".into(),
        });
    }
    if !body.base_url.is_empty() {
        if let Err(e) = super::outbound::check_url(&body.base_url, state.config.allow_private_destinations) {
            errs.push(FieldError { field: "baseUrl".into(), message: e.to_string() });
        }
    }
    if body.model.chars().count() > 200 {
        errs.push(FieldError { field: "model".into(), message: "at most 200 characters".into() });
    }
    if !errs.is_empty() {
        return Err(AppError::validation(errs));
    }
    let kind = kind.unwrap_or(ProviderKind::Builtin);
    let existing = sqlx::query("SELECT api_key_sealed, secret_sealed FROM ai_providers WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(&state.db.pool)
        .await?;
    let key = state.config.secret_key.as_ref();
    let seal = |new: &str, col: &str| -> Result<Option<String>, AppError> {
        if new == PLACEHOLDER {
            return Ok(existing.as_ref().and_then(|r| get_opt_str(r, col)));
        }
        if new.is_empty() {
            return Ok(None);
        }
        crypto::seal(key, new, &crypto::ai_context(tenant_id, col))
            .map(Some)
            .map_err(|e| AppError::invalid(if col == "api_key_sealed" { "apiKey" } else { "secret" }, e.to_string()))
    };
    let api_key = seal(&body.api_key, "api_key_sealed")?;
    let secret = seal(&body.secret, "secret_sealed")?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM ai_providers WHERE tenant_id = $1").bind(tenant_id).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO ai_providers (tenant_id, provider, model, base_url, region, api_key_sealed, secret_sealed, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant_id)
    .bind(kind.as_str())
    .bind(body.model.trim())
    .bind(body.base_url.trim())
    .bind(body.region.trim())
    .bind(api_key.as_deref())
    .bind(secret.as_deref())
    .bind(now)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({"provider": kind.as_str(), "model": body.model, "baseUrl": body.base_url, "keyChanged": body.api_key != PLACEHOLDER});
    super::store::audit::record(
        &mut *tx,
        super::store::audit::Entry {
            tenant_id,
            actor,
            action: "ai_provider.update",
            target_kind: "ai_provider",
            target_id: tenant_id,
            detail,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    get(state, tenant_id).await
}

/// The answer of a provider test.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// Whether the provider answered with text.
    pub ok: bool,
    /// The provider tried.
    pub provider: String,
    /// A short excerpt of the answer, or the error.
    pub message: String,
}

/// Sends a tiny prompt through the configured provider.
pub async fn test(state: &AppState, tenant_id: &str) -> Result<TestResult, AppError> {
    let Some(cfg) = providers::resolve(state, tenant_id).await? else {
        return Ok(TestResult {
            ok: true,
            provider: "builtin".into(),
            message: "The built-in narrator is always available.".into(),
        });
    };
    let prompt =
        super::narrative::prompt::Prompt { system: "Answer with the single word OK.".into(), user: "Say OK.".into() };
    let r = tokio::time::timeout(providers::TEST_TIMEOUT, providers::complete(state, &cfg, &prompt)).await;
    Ok(match r {
        Err(_) => TestResult {
            ok: false,
            provider: cfg.kind.as_str().into(),
            message: "the provider did not answer in time".into(),
        },
        Ok(Err(e)) => TestResult { ok: false, provider: cfg.kind.as_str().into(), message: e.to_string() },
        Ok(Ok(t)) => {
            TestResult { ok: true, provider: cfg.kind.as_str().into(), message: t.chars().take(120).collect() }
        }
    })
}

/// Re-seals AI provider secrets of the first version (`v1`) as `v2`, bound to their tenant and
/// column; returns how many. Run at start when a key is configured.
pub async fn reseal_legacy(state: &AppState) -> Result<u64, AppError> {
    let key = state.config.secret_key.as_ref();
    let mut n = 0;
    for col in ["api_key_sealed", "secret_sealed"] {
        let sql = format!("SELECT tenant_id, {col} AS sealed FROM ai_providers WHERE {col} LIKE 'v1:%'");
        for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&state.db.pool).await? {
            let (tenant_id, sealed) = (get_str(&r, "tenant_id"), get_str(&r, "sealed"));
            let ctx = crypto::ai_context(&tenant_id, col);
            let plain =
                crypto::open(key, &sealed, &ctx).map_err(|e| super::error::internal("ai provider secret", e))?;
            let fresh = crypto::seal(key, &plain, &ctx).map_err(|e| super::error::internal("ai provider secret", e))?;
            let update = format!("UPDATE ai_providers SET {col} = $1 WHERE tenant_id = $2 AND {col} = $3");
            sqlx::query(sqlx::AssertSqlSafe(update))
                .bind(fresh)
                .bind(&tenant_id)
                .bind(&sealed)
                .execute(&state.db.pool)
                .await?;
            n += 1;
        }
    }
    Ok(n)
}
