//! OpenAI-compatible chat completions (OpenAI, Ollama, LM Studio, vLLM): `POST {base}/chat/completions`.

use super::{base, post_json, text_at, ProviderConfig, ProviderError};
use crate::engine::narrative::prompt::Prompt;
use serde_json::json;

/// The default base URL.
pub const DEFAULT_BASE: &str = "https://api.openai.com/v1";

/// Asks for a JSON narrative.
pub async fn complete(
    client: &reqwest::Client,
    allow: bool,
    cfg: &ProviderConfig,
    p: &Prompt,
) -> Result<String, ProviderError> {
    let url = format!("{}/chat/completions", base(cfg, DEFAULT_BASE, allow)?);
    let body = json!({
        "model": cfg.model,
        "temperature": 0.2,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": p.system}, {"role": "user", "content": p.user}],
    });
    let mut req = client.post(url);
    if let Some(k) = cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
        req = req.bearer_auth(k);
    }
    let v = post_json(req, &body).await?;
    text_at(&v, "/choices/0/message/content")
}
