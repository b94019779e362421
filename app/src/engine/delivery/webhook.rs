//! Generic webhooks: the run as JSON (`report.run.completed`, or `report.test` for tests) with the
//! artifacts inline as base64 up to a total size cap and as signed download URLs beyond it, signed
//! per Standard Webhooks when a secret is set (`webhook-id` = the delivery id, stable across
//! retries; `webhook-timestamp`; `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`).
//! Custom headers are sent too, except those that would override the body's framing or the
//! signature.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{http, DeliveryInput, Reply, Settings};

/// Headers a destination may not set (beyond every `webhook-*` header).
const PROTECTED: [&str; 5] = ["content-type", "host", "content-length", "transfer-encoding", "connection"];

/// A webhook destination's settings, borrowed.
pub(super) struct Target<'a> {
    /// The endpoint.
    pub url: &'a str,
    /// The signing secret, if any.
    pub secret: Option<&'a str>,
    /// Extra headers.
    pub headers: &'a [(String, String)],
}

/// One attempt: sign (with this attempt's timestamp) and POST.
pub(super) async fn send(
    client: &reqwest::Client,
    target: &Target<'_>,
    input: &DeliveryInput,
    settings: &Settings,
) -> Reply {
    let body = payload(input, settings).to_string().into_bytes();
    let timestamp = chrono::Utc::now().timestamp();
    match headers(target, &input.delivery_id, timestamp, &body) {
        Ok(h) => http::send_json(client, target.url, h, body, settings, false).await,
        Err(e) => Reply::fail(e),
    }
}

/// The JSON body.
pub(super) fn payload(input: &DeliveryInput, settings: &Settings) -> Value {
    json!({
        "event": if input.is_test { "report.test" } else { "report.run.completed" },
        "runId": input.run_id,
        "tenantId": input.tenant_id,
        "templateId": input.template_id,
        "templateName": input.template_name,
        "scheduleId": input.schedule_id,
        "status": input.status,
        "period": input.period,
        "generatedAt": input.generated_at,
        "narrative": input.narrative.as_ref().map(|n| json!({
            "executiveSummary": n.executive_summary,
            "keyTakeaways": n.key_takeaways,
        })),
        "sections": input.sections.iter().map(|s| json!({"id": s.id, "title": s.title, "rowCount": s.row_count})).collect::<Vec<_>>(),
        "artifacts": artifacts(input, settings),
        "runUrl": input.run_url,
    })
}

/// The artifacts: inline as base64 when all of them together fit the cap, else as URLs.
fn artifacts(input: &DeliveryInput, settings: &Settings) -> Vec<Value> {
    let total: usize = input.artifacts.iter().map(|a| a.bytes.len()).sum();
    let inline = total <= settings.webhook_inline_max_bytes;
    input
        .artifacts
        .iter()
        .map(|a| {
            let mut v = json!({
                "format": a.format,
                "filename": a.filename,
                "mediaType": a.media_type,
                "sizeBytes": a.bytes.len(),
                "sha256": a.sha256,
            });
            if inline {
                v["base64"] = Value::String(STANDARD.encode(a.bytes.as_slice()));
            } else {
                v["url"] = Value::String(a.download_url.clone());
            }
            v
        })
        .collect()
}

/// The request headers: custom ones (minus protected ones), JSON, id, timestamp, signature.
pub(super) fn headers(target: &Target<'_>, id: &str, timestamp: i64, body: &[u8]) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    for (i, (name, value)) in target.headers.iter().enumerate() {
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("custom header #{} has an invalid name", i + 1))?;
        if is_protected(&name) {
            continue;
        }
        let mut value =
            HeaderValue::from_str(value.trim()).map_err(|_| format!("custom header {name} has an invalid value"))?;
        value.set_sensitive(true);
        h.append(name, value);
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let id_value = HeaderValue::from_str(id).map_err(|_| "the delivery id cannot be sent as a header".to_string())?;
    h.insert("webhook-id", id_value);
    h.insert("webhook-timestamp", HeaderValue::from(timestamp));
    if let Some(secret) = target.secret.filter(|s| !s.is_empty()) {
        let mut sig = HeaderValue::from_str(&signature(secret, id, timestamp, body)?)
            .map_err(|_| "the signature is not a valid header".to_string())?;
        sig.set_sensitive(true);
        h.insert("webhook-signature", sig);
    }
    Ok(h)
}

/// Whether a custom header is refused: framing, host and the signature's own headers.
fn is_protected(name: &HeaderName) -> bool {
    PROTECTED.contains(&name.as_str()) || name.as_str().starts_with("webhook-")
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub(super) fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = signing_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| "the signing secret cannot be used".to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The HMAC key: the base64-decoded part after `whsec_`, or the secret's own bytes.
fn signing_key(secret: &str) -> Result<Vec<u8>, String> {
    match secret.strip_prefix("whsec_") {
        Some(b64) => {
            STANDARD.decode(b64.trim()).map_err(|_| "the signing secret is not valid base64 after whsec_".to_string())
        }
        None => Ok(secret.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(headers: &'a [(String, String)], secret: Option<&'a str>) -> Target<'a> {
        Target { url: "https://hooks.example.com/x", secret, headers }
    }

    #[test]
    fn custom_headers_cannot_override_framing_or_signature_headers() {
        let custom: Vec<(String, String)> = [
            ("Content-Type", "text/plain"),
            ("Host", "evil.example"),
            ("Content-Length", "1"),
            ("Webhook-Id", "forged"),
            ("webhook-signature", "v1,forged"),
            ("X-Api-Key", "k-123456"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let h = headers(&target(&custom, Some("s3cr3t-signing")), "dlv-1", 1_700_000_000, b"{}").unwrap();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["webhook-id"], "dlv-1");
        assert_eq!(h["webhook-timestamp"], "1700000000");
        assert!(h["webhook-signature"].to_str().unwrap().starts_with("v1,"));
        assert!(h.get("host").is_none() && h.get("content-length").is_none());
        assert_eq!(h["x-api-key"], "k-123456");
        assert_eq!(h.get_all("webhook-signature").iter().count(), 1);
    }

    #[test]
    fn an_invalid_custom_header_fails_without_echoing_its_value() {
        let custom = vec![("X-Token".to_string(), "bad\nvalue-secret".to_string())];
        let err = headers(&target(&custom, None), "dlv-1", 1, b"{}").unwrap_err();
        assert!(err.contains("x-token") && !err.contains("value-secret"), "{err}");
        let custom = vec![("bad name".to_string(), "v".to_string())];
        assert_eq!(
            headers(&target(&custom, None), "dlv-1", 1, b"{}").unwrap_err(),
            "custom header #1 has an invalid name"
        );
    }

    #[test]
    fn a_whsec_secret_is_base64_decoded_and_a_plain_one_used_as_is() {
        assert_eq!(signing_key("whsec_aGVsbG8=").unwrap(), b"hello");
        assert_eq!(signing_key("plain-secret").unwrap(), b"plain-secret");
        assert!(signing_key("whsec_***").is_err());
        assert_ne!(signature("whsec_aGVsbG8=", "a", 1, b"x").unwrap(), signature("hello2", "a", 1, b"x").unwrap());
        assert_eq!(signature("whsec_aGVsbG8=", "a", 1, b"x").unwrap(), signature("hello", "a", 1, b"x").unwrap());
    }
}
