//! The HTTP half shared by Slack, Teams and webhooks: one JSON POST through the SSRF-safe client,
//! and its answer mapped to a [`Reply`] by the shared rules (2xx delivered, 408/429/5xx retried
//! with `Retry-After` honoured, anything else failed with a short "HTTP <status>: <body>" error).

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};

use super::retry::{self, Class};
use super::{text, Attempt, Reply, Settings};
use crate::engine::outbound;

/// Response headers that carry a provider's id for the message, in order of preference.
const ID_HEADERS: [&str; 5] =
    ["x-request-id", "x-slack-req-id", "x-ms-workflow-run-id", "x-ms-request-id", "request-id"];

/// What came back from one POST.
#[derive(Debug)]
pub(super) struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The wait the server asked for, if any.
    pub retry_after: Option<std::time::Duration>,
    /// The provider's id for the message, if a known header carried one.
    pub response_id: Option<String>,
    /// The start of the body, on one line (cut to its final length after redaction).
    pub snippet: String,
}

impl Answer {
    /// The error text of a non-2xx answer.
    fn error(&self) -> String {
        if (300..400).contains(&self.status) {
            return format!("HTTP {}: redirects are not followed", self.status);
        }
        if self.snippet.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {}", self.status, self.snippet)
        }
    }
}

/// Headers of a JSON body.
pub(super) fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h
}

/// Checks the URL against the outbound rules: `Err` is a permanent failure.
pub(super) fn target(raw: &str, settings: &Settings) -> Result<url::Url, Reply> {
    outbound::check_url(raw, settings.allow_private).map_err(|e| Reply::fail(e.to_string()))
}

/// POSTs `body` with `headers`; `Err` is a short transport error (never the URL).
pub(super) async fn post(
    client: &reqwest::Client,
    url: url::Url,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<Answer, String> {
    let resp = client.post(url).headers(headers).body(body).send().await.map_err(|e| outbound::describe(&e))?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry::parse_retry_after(v, chrono::Utc::now()));
    let response_id = ID_HEADERS
        .iter()
        .find_map(|name| resp.headers().get(*name).and_then(|v| v.to_str().ok()))
        .map(|v| text::truncate(v.trim(), 200))
        .filter(|v| !v.is_empty());
    let body = outbound::read_limited(resp).await.unwrap_or_default();
    Ok(Answer { status, retry_after, response_id, snippet: text::snippet(&body) })
}

/// Maps a POST's result to a reply. `accept_202` makes HTTP 202 mean "accepted" (Teams).
pub(super) fn reply(result: Result<Answer, String>, accept_202: bool) -> Reply {
    let answer = match result {
        Ok(a) => a,
        Err(error) => return Reply::retry(error),
    };
    let attempt = match retry::classify(answer.status) {
        Class::Success if accept_202 && answer.status == 202 => {
            Attempt::Accepted { response_id: answer.response_id.clone() }
        }
        Class::Success => Attempt::Delivered { response_id: answer.response_id.clone() },
        Class::Retry => Attempt::Retry { error: answer.error(), retry_after: answer.retry_after },
        Class::Fail => Attempt::Fail { error: answer.error() },
    };
    Reply { attempt, http_status: Some(answer.status) }
}

/// POSTs a JSON body to a checked URL and maps the answer: the whole of one HTTP attempt.
pub(super) async fn send_json(
    client: &reqwest::Client,
    raw_url: &str,
    headers: HeaderMap,
    body: Vec<u8>,
    settings: &Settings,
    accept_202: bool,
) -> Reply {
    let url = match target(raw_url, settings) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    reply(post(client, url, headers, body).await, accept_202)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, snippet: &str) -> Result<Answer, String> {
        Ok(Answer { status, retry_after: None, response_id: Some("r-1".into()), snippet: snippet.into() })
    }

    #[test]
    fn statuses_map_to_delivered_accepted_retry_and_fail() {
        assert_eq!(reply(answer(200, "ok"), false).attempt, Attempt::Delivered { response_id: Some("r-1".into()) });
        assert_eq!(reply(answer(202, ""), true).attempt, Attempt::Accepted { response_id: Some("r-1".into()) });
        assert_eq!(reply(answer(202, ""), false).attempt, Attempt::Delivered { response_id: Some("r-1".into()) });
        assert_eq!(
            reply(answer(503, "busy"), false).attempt,
            Attempt::Retry { error: "HTTP 503: busy".into(), retry_after: None }
        );
        assert_eq!(
            reply(answer(404, "no_service"), false).attempt,
            Attempt::Fail { error: "HTTP 404: no_service".into() }
        );
        assert_eq!(
            reply(answer(302, ""), false).attempt,
            Attempt::Fail { error: "HTTP 302: redirects are not followed".into() }
        );
        assert_eq!(reply(answer(400, "invalid_payload"), false).http_status, Some(400));
    }

    #[test]
    fn a_transport_error_is_retried_without_a_status() {
        let r = reply(Err("could not connect".into()), false);
        assert_eq!(r, Reply::retry("could not connect"));
    }
}
