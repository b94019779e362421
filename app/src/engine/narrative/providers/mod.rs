//! AI providers behind one dispatch: OpenAI-compatible (OpenAI, Ollama, LM Studio, vLLM),
//! Anthropic messages, Google Gemini and Amazon Bedrock Converse (SigV4). Configuration comes
//! from the tenant's settings (secrets sealed at rest), falling back to the `NARRATE_AI_*`
//! environment variables, then to the built-in narrator.

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
pub mod openai;
pub mod sigv4;

use super::prompt::Prompt;
use crate::engine::db::{get_opt_str, get_str};
use crate::engine::outbound::{self, OutboundError};
use crate::engine::{crypto, AppState};
use crate::model::AppError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The provider kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Deterministic, offline.
    Builtin,
    /// OpenAI-compatible chat completions.
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Google Gemini generateContent.
    Gemini,
    /// Amazon Bedrock Converse.
    Bedrock,
}

impl ProviderKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Bedrock => "bedrock",
        }
    }

    /// Parses a stored or configured name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Builtin, Self::Openai, Self::Anthropic, Self::Gemini, Self::Bedrock]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The model used when none is configured.
    pub fn default_model(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Openai => "gpt-4o-mini",
            Self::Anthropic => "claude-3-5-haiku-latest",
            Self::Gemini => "gemini-1.5-flash",
            Self::Bedrock => "anthropic.claude-3-haiku-20240307-v1:0",
        }
    }
}

/// A resolved provider configuration (secrets decrypted, in memory only).
#[derive(Clone)]
pub struct ProviderConfig {
    /// Which API.
    pub kind: ProviderKind,
    /// The model name or id.
    pub model: String,
    /// Base URL override (Ollama, LM Studio, vLLM, proxies, tests).
    pub base_url: Option<String>,
    /// API key (Bedrock: the access key id).
    pub api_key: Option<String>,
    /// Bedrock: the secret access key.
    pub secret: Option<String>,
    /// Bedrock: the region.
    pub region: Option<String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig").field("kind", &self.kind).field("model", &self.model).finish_non_exhaustive()
    }
}

/// Why a provider call failed (messages never contain keys or URLs with tokens).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Transport or refusal.
    #[error("{0}")]
    Outbound(#[from] OutboundError),
    /// The provider answered with an error status.
    #[error("the provider answered HTTP {status}: {detail}")]
    Status {
        /// HTTP status.
        status: u16,
        /// A short excerpt of the answer.
        detail: String,
    },
    /// The answer was not in the provider's documented shape.
    #[error("the provider's answer was malformed: {0}")]
    Malformed(String),
    /// Required settings are missing.
    #[error("{0}")]
    Config(String),
}

/// How much of a provider's error answer is read before secrets are removed from it, and how much
/// is kept afterwards (redacting before cutting, so no half of a key survives at the cut).
const DETAIL_READ_CHARS: usize = 1_000;
const DETAIL_KEEP_CHARS: usize = 200;

impl ProviderError {
    /// The error with the provider's key and secret removed from any text the provider sent back
    /// (some providers quote the key they refused, e.g. "Incorrect API key provided: sk-…").
    fn without_secrets(self, cfg: &ProviderConfig) -> ProviderError {
        let secrets: Vec<&str> =
            [cfg.api_key.as_deref(), cfg.secret.as_deref()].into_iter().flatten().filter(|s| s.len() >= 6).collect();
        let clean = |text: String| -> String {
            let text = secrets.iter().fold(text, |t, s| t.replace(s, "[redacted]"));
            text.chars().take(DETAIL_KEEP_CHARS).collect()
        };
        match self {
            ProviderError::Status { status, detail } => ProviderError::Status { status, detail: clean(detail) },
            ProviderError::Malformed(m) => ProviderError::Malformed(clean(m)),
            ProviderError::Config(m) => ProviderError::Config(clean(m)),
            other => other,
        }
    }
}

/// The tenant's configuration, else the environment's, else None (built-in).
pub async fn resolve(state: &AppState, tenant_id: &str) -> Result<Option<ProviderConfig>, AppError> {
    let row = sqlx::query("SELECT provider, model, base_url, region, api_key_sealed, secret_sealed FROM ai_providers WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(&state.db.pool)
        .await?;
    let key = state.config.secret_key.as_ref();
    if let Some(r) = row {
        let kind = ProviderKind::parse(&get_str(&r, "provider")).unwrap_or(ProviderKind::Builtin);
        if kind == ProviderKind::Builtin {
            return Ok(None);
        }
        let open = |col: &str| -> Result<Option<String>, AppError> {
            get_opt_str(&r, col)
                .map(|s| {
                    crypto::open(key, &s, &crypto::ai_context(tenant_id, col))
                        .map_err(|e| crate::engine::error::internal("ai provider secret", e))
                })
                .transpose()
        };
        return Ok(Some(ProviderConfig {
            kind,
            model: get_opt_str(&r, "model").filter(|m| !m.is_empty()).unwrap_or_else(|| kind.default_model().into()),
            base_url: get_opt_str(&r, "base_url").filter(|u| !u.is_empty()),
            api_key: open("api_key_sealed")?,
            secret: open("secret_sealed")?,
            region: get_opt_str(&r, "region").filter(|u| !u.is_empty()),
        }));
    }
    let c = &state.config;
    Ok(c.ai_provider.as_deref().and_then(ProviderKind::parse).filter(|k| *k != ProviderKind::Builtin).map(|kind| {
        ProviderConfig {
            kind,
            model: c.ai_model.clone().unwrap_or_else(|| kind.default_model().into()),
            base_url: c.ai_base_url.clone(),
            api_key: c.ai_api_key.clone(),
            secret: std::env::var("AWS_SECRET_ACCESS_KEY").ok(),
            region: std::env::var("AWS_REGION").ok(),
        }
    }))
}

/// Sends the prompt and returns the model's text.
pub async fn complete(state: &AppState, cfg: &ProviderConfig, prompt: &Prompt) -> Result<String, ProviderError> {
    // The narrative's own deadline (the same limit, around this call) is the one that speaks
    // ("did not answer within N s"); the client's is a backstop a second later, so the two never
    // race to word the same timeout.
    let backstop = super::timeout(state) + std::time::Duration::from_secs(1);
    let client = outbound::client(state.config.allow_private_destinations, backstop);
    let allow = state.config.allow_private_destinations;
    let answer = match cfg.kind {
        ProviderKind::Builtin => Err(ProviderError::Config("the built-in narrator needs no provider".into())),
        ProviderKind::Openai => openai::complete(&client, allow, cfg, prompt).await,
        ProviderKind::Anthropic => anthropic::complete(&client, allow, cfg, prompt).await,
        ProviderKind::Gemini => gemini::complete(&client, allow, cfg, prompt).await,
        ProviderKind::Bedrock => bedrock::complete(&client, allow, cfg, prompt, chrono::Utc::now()).await,
    };
    answer.map_err(|e| e.without_secrets(cfg))
}

/// The start of an error answer, on which `without_secrets` then works.
pub(crate) fn error_detail(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(DETAIL_READ_CHARS).collect()
}

/// Posts JSON and returns the parsed JSON answer, mapping statuses to errors.
pub(crate) async fn post_json(
    req: reqwest::RequestBuilder,
    body: &serde_json::Value,
) -> Result<serde_json::Value, ProviderError> {
    let resp = req.json(body).send().await.map_err(|e| OutboundError::Transport(outbound::describe(&e)))?;
    let status = resp.status().as_u16();
    let bytes = outbound::read_limited(resp).await?;
    if !(200..300).contains(&status) {
        return Err(ProviderError::Status { status, detail: error_detail(&bytes) });
    }
    serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed(e.to_string()))
}

/// Extracts a string at a JSON pointer, or a Malformed error naming it.
pub(crate) fn text_at(v: &serde_json::Value, pointer: &str) -> Result<String, ProviderError> {
    v.pointer(pointer)
        .and_then(|t| t.as_str())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::Malformed(format!("no text at {pointer}")))
}

/// The base URL: configured or default, checked against the outbound rules.
pub(crate) fn base(cfg: &ProviderConfig, default: &str, allow_private: bool) -> Result<String, ProviderError> {
    let b = cfg.base_url.clone().unwrap_or_else(|| default.to_string());
    outbound::check_url(&b, allow_private)?;
    Ok(b.trim_end_matches('/').to_string())
}

/// The timeout of a provider test call.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);
