//! Delivery of a finished run to Slack, Microsoft Teams, email (SMTP) and signed webhooks, behind
//! one entry point, [`deliver`]: the kind's single attempt runs inside the shared retry loop of
//! [`retry`]. Error texts are short and never carry secrets — webhook URLs, signing secrets, custom
//! header values and SMTP credentials are redacted from every error before it leaves this module.

mod email;
pub use email::domain_allowed;
mod http;
pub mod preview;
pub mod retry;
mod slack;
mod teams;
mod text;
mod webhook;

#[cfg(test)]
mod email_tests;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::outbound;
use crate::model::Narrative;

/// Most characters of an attempt's error text ("HTTP 400: " and the first 200 characters of body).
pub const MAX_ERROR_CHARS: usize = 210;

/// A rendered file of a run, shared by every destination of the run.
#[derive(Clone)]
pub struct Artifact {
    /// `pdf`, `csv`, `md` or `html`.
    pub format: String,
    /// The file name shown to people, e.g. `weekly-revenue-2026-11-30.pdf`.
    pub filename: String,
    /// The media type, e.g. `application/pdf`.
    pub media_type: String,
    /// The file's bytes.
    pub bytes: Arc<Vec<u8>>,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// A signed, expiring, absolute download URL.
    pub download_url: String,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("format", &self.format)
            .field("filename", &self.filename)
            .field("media_type", &self.media_type)
            .field("size", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// A section of the report as deliveries describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSummary {
    /// The section's source key.
    pub id: String,
    /// The section's title.
    pub title: String,
    /// How many rows the section holds.
    pub row_count: usize,
}

/// Everything a destination needs to announce one finished run.
#[derive(Debug, Clone)]
pub struct DeliveryInput {
    /// The delivery's id, stable across retries (receivers de-duplicate on it).
    pub delivery_id: String,
    /// The run.
    pub run_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The report template.
    pub template_id: String,
    /// The template's name, the message title.
    pub template_name: String,
    /// The schedule that triggered the run, if any.
    pub schedule_id: Option<String>,
    /// The run's status as announced: the report was produced (`succeeded`); deliveries are
    /// still under way when it is sent.
    pub status: RunStatus,
    /// The period in words, e.g. "last 7 days, 2026-11-24 to 2026-11-30 (UTC)".
    pub period: String,
    /// When the run was generated, RFC 3339.
    pub generated_at: String,
    /// The narrative, when one was written.
    pub narrative: Option<Narrative>,
    /// The report's sections.
    pub sections: Vec<SectionSummary>,
    /// The key figures, formatted (the email shows them as a table).
    pub kpis: Vec<crate::model::KpiLine>,
    /// Each charted section as a PNG (the email shows them inline, by Content-ID).
    pub charts: Vec<crate::engine::render::png::ChartImage>,
    /// The first chart as a signed, expiring public image URL and its title, for Slack and Teams
    /// (None when `NARRATE_PUBLIC_URL` is not one they can reach: they then get text only).
    pub headline_chart: Option<(String, String)>,
    /// The rendered files.
    pub artifacts: Vec<Artifact>,
    /// The absolute URL of the run page.
    pub run_url: String,
    /// Whether this is a test message from the settings page.
    pub is_test: bool,
}

/// Where a delivery goes. Secrets live here in clear text: `Debug` never prints them.
#[derive(Clone)]
pub enum Destination {
    /// A Slack incoming webhook (the URL is a secret).
    Slack {
        /// The incoming-webhook URL.
        webhook_url: String,
    },
    /// A Microsoft Teams Workflows (Power Automate) webhook (the URL is a secret).
    Teams {
        /// The workflow's HTTP trigger URL.
        webhook_url: String,
    },
    /// Email through the configured SMTP server.
    Email {
        /// The sender, e.g. `Narrate <reports@example.com>`.
        from: String,
        /// The recipients.
        to: Vec<String>,
        /// An optional reply-to address.
        reply_to: Option<String>,
    },
    /// A generic HTTPS webhook, signed per Standard Webhooks when a secret is set.
    Webhook {
        /// The endpoint.
        url: String,
        /// The signing secret (`whsec_<base64>` or raw text).
        secret: Option<String>,
        /// Extra request headers (values may be secrets).
        headers: Vec<(String, String)>,
    },
}

impl Destination {
    /// The kind as stored: `slack`, `teams`, `email` or `webhook`.
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Slack { .. } => "slack",
            Destination::Teams { .. } => "teams",
            Destination::Email { .. } => "email",
            Destination::Webhook { .. } => "webhook",
        }
    }

    /// The texts that must never appear in an error of this destination.
    fn secrets(&self, settings: &Settings) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Destination::Slack { webhook_url } | Destination::Teams { webhook_url } => {
                text::url_secrets(webhook_url, &mut out)
            }
            Destination::Webhook { url, secret, headers } => {
                text::url_secrets(url, &mut out);
                if let Some(s) = secret {
                    out.push(s.clone());
                    out.extend(s.strip_prefix("whsec_").map(str::to_string));
                }
                out.extend(headers.iter().map(|(_, v)| v.clone()));
            }
            Destination::Email { .. } => {
                if let Some(smtp) = &settings.smtp_url {
                    text::smtp_secrets(smtp, &mut out);
                }
            }
        }
        out
    }
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Email { from, to, reply_to } => {
                f.debug_struct("Email").field("from", from).field("to", to).field("reply_to", reply_to).finish()
            }
            other => f.debug_struct(other.kind()).finish_non_exhaustive(),
        }
    }
}

/// How deliveries behave: address rules, SMTP server, timeouts, retries and size caps.
#[derive(Clone)]
pub struct Settings {
    /// Lets deliveries reach private, loopback and plain-HTTP addresses (tests, on-premise).
    pub allow_private: bool,
    /// The SMTP server, e.g. `smtps://user:pass@smtp.example.com:465` (`NARRATE_SMTP_URL`).
    pub smtp_url: Option<String>,
    /// The time limit of one attempt.
    pub attempt_timeout: Duration,
    /// The most attempts of one delivery.
    pub max_attempts: u32,
    /// The time limit of one delivery, all attempts and waits included.
    pub max_total: Duration,
    /// The first backoff step; later ones double (capped at 30 s), with full jitter.
    pub base_backoff: Duration,
    /// Above this many artifact bytes in total, emails link the files instead of attaching them.
    pub email_max_bytes: usize,
    /// Above this many artifact bytes in total, webhooks carry URLs instead of base64.
    pub webhook_inline_max_bytes: usize,
    /// `NARRATE_SMTP_FROM`: the operator's sender of every report mail.
    pub smtp_from: Option<String>,
    /// `NARRATE_SMTP_ALLOWED_FROM_DOMAINS`: domains tenants may send as.
    pub allowed_from_domains: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_private: false,
            smtp_url: None,
            attempt_timeout: Duration::from_secs(15),
            max_attempts: 5,
            max_total: Duration::from_secs(120),
            base_backoff: Duration::from_secs(1),
            email_max_bytes: 10 * 1024 * 1024,
            webhook_inline_max_bytes: 5 * 1024 * 1024,
            smtp_from: None,
            allowed_from_domains: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("allow_private", &self.allow_private)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "••••••••"))
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_total", &self.max_total)
            .field("base_backoff", &self.base_backoff)
            .field("email_max_bytes", &self.email_max_bytes)
            .field("webhook_inline_max_bytes", &self.webhook_inline_max_bytes)
            .field("smtp_from", &self.smtp_from)
            .field("allowed_from_domains", &self.allowed_from_domains)
            .finish()
    }
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The destination took the message.
    Delivered {
        /// The provider's id for it, when it gave one.
        response_id: Option<String>,
    },
    /// The destination queued the message for later processing (Teams' HTTP 202).
    Accepted {
        /// The provider's id for it, when it gave one.
        response_id: Option<String>,
    },
    /// A transient failure: try again.
    Retry {
        /// What went wrong (short, secret-free).
        error: String,
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// A permanent failure: do not try again.
    Fail {
        /// What went wrong (short, secret-free).
        error: String,
    },
}

/// One attempt's result with the HTTP status that produced it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The result.
    pub attempt: Attempt,
    /// The HTTP status answered, when the attempt got that far.
    pub http_status: Option<u16>,
}

impl Reply {
    /// A permanent failure before any HTTP answer.
    pub fn fail(error: impl Into<String>) -> Reply {
        Reply { attempt: Attempt::Fail { error: error.into() }, http_status: None }
    }

    /// A transient failure before any HTTP answer.
    pub fn retry(error: impl Into<String>) -> Reply {
        Reply { attempt: Attempt::Retry { error: error.into(), retry_after: None }, http_status: None }
    }

    /// The same reply with every secret removed from its error text, then the text shortened
    /// (in that order, so that no cut-off piece of a secret survives).
    fn cleaned(mut self, secrets: &[String]) -> Reply {
        if let Attempt::Retry { error, .. } | Attempt::Fail { error } = &mut self.attempt {
            *error = text::truncate(&text::redact(error, secrets), MAX_ERROR_CHARS);
        }
        self
    }
}

/// Where a delivery stands (the lifecycle lives in `model::runs`).
pub use crate::model::runs::DeliveryStatus;
use crate::model::runs::RunStatus;

/// One attempt as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    /// 1 for the first attempt.
    pub number: u32,
    /// When the attempt started.
    pub at: DateTime<Utc>,
    /// `delivered`, `accepted`, `retry` or `failed`.
    pub result: String,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// The HTTP status answered, if any.
    pub http_status: Option<u16>,
}

/// The final result of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `Delivered`, `Accepted` or `Failed`.
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempts: u32,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The provider's id for the message, when it gave one.
    pub response_id: Option<String>,
    /// Every attempt, in order.
    pub attempt_log: Vec<AttemptRecord>,
}

/// Delivers one run to one destination: the kind's attempt inside the retry loop. `on_attempt` is
/// called after every attempt (the caller records it); the returned [`Outcome`] is final.
pub async fn deliver(
    dest: &Destination,
    input: &DeliveryInput,
    settings: &Settings,
    on_attempt: impl FnMut(&AttemptRecord),
) -> Outcome {
    let secrets = dest.secrets(settings);
    let client = OnceLock::new();
    let (secrets, client) = (&secrets, &client);
    retry::run(settings, on_attempt, move |_number| async move {
        attempt(dest, input, settings, client).await.cleaned(secrets)
    })
    .await
}

/// One attempt of the destination's kind (the HTTP client is built on first use).
async fn attempt(
    dest: &Destination,
    input: &DeliveryInput,
    settings: &Settings,
    client: &OnceLock<reqwest::Client>,
) -> Reply {
    let http = || client.get_or_init(|| outbound::client(settings.allow_private, settings.attempt_timeout));
    match dest {
        Destination::Slack { webhook_url } => slack::send(http(), webhook_url, input, settings).await,
        Destination::Teams { webhook_url } => teams::send(http(), webhook_url, input, settings).await,
        Destination::Webhook { url, secret, headers } => {
            let target = webhook::Target { url, secret: secret.as_deref(), headers };
            webhook::send(http(), &target, input, settings).await
        }
        Destination::Email { from, to, reply_to } => email::send(from, to, reply_to.as_deref(), input, settings).await,
    }
}
