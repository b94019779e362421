//! Anthropic messages API: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`.

use super::{base, post_json, text_at, ProviderConfig, ProviderError};
use crate::engine::narrative::prompt::Prompt;
use serde_json::json;

/// The default base URL.
pub const DEFAULT_BASE: &str = "https://api.anthropic.com";
/// The API version header value.
pub const VERSION: &str = "2023-06-01";

/// Asks for a JSON narrative.
pub async fn complete(
    client: &reqwest::Client,
    allow: bool,
    cfg: &ProviderConfig,
    p: &Prompt,
) -> Result<String, ProviderError> {
    let key = cfg.api_key.as_deref().ok_or_else(|| ProviderError::Config("Anthropic needs an API key".into()))?;
    let url = format!("{}/v1/messages", base(cfg, DEFAULT_BASE, allow)?);
    let body = json!({
        "model": cfg.model,
        "max_tokens": 1024,
        "temperature": 0.2,
        "system": p.system,
        "messages": [{"role": "user", "content": p.user}],
    });
    let req = client.post(url).header("x-api-key", key).header("anthropic-version", VERSION);
    let v = post_json(req, &body).await?;
    text_at(&v, "/content/0/text")
}
