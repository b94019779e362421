//! Google Gemini: `POST {base}/v1beta/models/{model}:generateContent` with `x-goog-api-key`.

use super::{base, post_json, text_at, ProviderConfig, ProviderError};
use crate::engine::narrative::prompt::Prompt;
use serde_json::json;

/// The default base URL.
pub const DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com";

/// Asks for a JSON narrative.
pub async fn complete(
    client: &reqwest::Client,
    allow: bool,
    cfg: &ProviderConfig,
    p: &Prompt,
) -> Result<String, ProviderError> {
    let key = cfg.api_key.as_deref().ok_or_else(|| ProviderError::Config("Gemini needs an API key".into()))?;
    let model: String = cfg.model.chars().filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c)).collect();
    let url = format!("{}/v1beta/models/{model}:generateContent", base(cfg, DEFAULT_BASE, allow)?);
    let body = json!({
        "systemInstruction": {"parts": [{"text": p.system}]},
        "contents": [{"role": "user", "parts": [{"text": p.user}]}],
        "generationConfig": {"temperature": 0.2, "responseMimeType": "application/json"},
    });
    let v = post_json(client.post(url).header("x-goog-api-key", key), &body).await?;
    text_at(&v, "/candidates/0/content/parts/0/text")
}
