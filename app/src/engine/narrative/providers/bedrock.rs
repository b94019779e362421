//! Amazon Bedrock Converse: `POST https://bedrock-runtime.{region}.amazonaws.com/model/{id}/converse`,
//! signed with AWS Signature Version 4 (service `bedrock`).

use super::sigv4::{sign, Credentials, Signing};
use super::{base, text_at, ProviderConfig, ProviderError};
use crate::engine::narrative::prompt::Prompt;
use crate::engine::outbound::{self, OutboundError};
use serde_json::json;

/// Asks for a JSON narrative.
pub async fn complete(
    client: &reqwest::Client,
    allow: bool,
    cfg: &ProviderConfig,
    p: &Prompt,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, ProviderError> {
    let region = cfg.region.clone().unwrap_or_else(|| "us-east-1".into());
    let creds = Credentials {
        access_key_id: cfg
            .api_key
            .clone()
            .ok_or_else(|| ProviderError::Config("Bedrock needs an access key id".into()))?,
        secret_access_key: cfg
            .secret
            .clone()
            .ok_or_else(|| ProviderError::Config("Bedrock needs a secret access key".into()))?,
        session_token: None,
    };
    let default = format!("https://bedrock-runtime.{region}.amazonaws.com");
    let base = base(cfg, &default, allow)?;
    let encoded: String = cfg
        .model
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = url::Url::parse(&format!("{base}/model/{encoded}/converse"))
        .map_err(|e| ProviderError::Config(e.to_string()))?;
    let body = serde_json::to_vec(&json!({
        "system": [{"text": p.system}],
        "messages": [{"role": "user", "content": [{"text": p.user}]}],
        "inferenceConfig": {"maxTokens": 1024, "temperature": 0.2},
    }))
    .map_err(|e| ProviderError::Malformed(e.to_string()))?;
    let signing = Signing {
        method: "POST",
        url: &url,
        headers: &[("content-type", "application/json")],
        body: &body,
        region: &region,
        service: "bedrock",
    };
    let headers = sign(&signing, &creds, now);
    let mut req = client.post(url.as_str()).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| OutboundError::Transport(outbound::describe(&e)))?;
    let status = resp.status().as_u16();
    let bytes = outbound::read_limited(resp).await?;
    if !(200..300).contains(&status) {
        return Err(ProviderError::Status { status, detail: super::error_detail(&bytes) });
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed(e.to_string()))?;
    text_at(&v, "/output/message/content/0/text")
}
