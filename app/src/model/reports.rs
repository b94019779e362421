//! Saved reports on the wire: templates, schedules and runs (PRODUCT §5–§8, camelCase JSON).

use super::runs::{DeliveryStatus, RunPhase, RunStatus, Trigger};
use serde::{Deserialize, Serialize};

/// The narrative settings of a template.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NarrativeSettings {
    /// Write a narrative (on by default).
    pub enabled: bool,
    /// Appended to the prompt.
    #[serde(default)]
    pub prompt: Option<String>,
}

impl Default for NarrativeSettings {
    fn default() -> Self {
        NarrativeSettings { enabled: true, prompt: None }
    }
}

/// When a run sends what it made (PRODUCT §13 "Send condition").
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SendKind {
    /// Every run sends (the default).
    #[default]
    Always,
    /// Only when the report finds an anomaly or a problem of at least `minSeverity`.
    Anomaly,
    /// Only when the KPI `kpi` moved by at least `changePct` % against the previous period.
    KpiChange,
    /// Only when the report has data.
    HasData,
}

/// How serious a finding is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing (an anomaly at z ≥ 2); never a reason to send on its own.
    Info,
    /// Needs a look (z ≥ 3, a degraded connector, a model to monitor, a failed pipeline run).
    #[default]
    Warning,
    /// Needs action now (z ≥ 4, a failing connector, a model to retrain, an open breaker).
    Critical,
}

impl Severity {
    /// `info`, `warning`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses the text the sources write.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// A template's send condition: `{"kind": "always" | "anomaly" | "kpiChange" | "hasData",
/// "minSeverity": "warning" | "critical", "kpi": "<key>", "changePct": <number>}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendWhen {
    /// The condition.
    #[serde(default)]
    pub kind: SendKind,
    /// `anomaly`: the least severity that sends (default warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    /// `kpiChange`: the KPI's key (e.g. `revenue`), one of the dashboard's KPIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
    /// `kpiChange`: the least move, in percent either way (10 means ±10 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<f64>,
}

impl SendWhen {
    /// The condition in words, for lists and the run page.
    pub fn describe(&self) -> String {
        match self.kind {
            SendKind::Always => "Always".into(),
            SendKind::Anomaly => format!(
                "Only when an anomaly or problem of at least {} is found",
                self.min_severity.unwrap_or_default().as_str()
            ),
            SendKind::KpiChange => format!(
                "Only when {} moves more than {} % against the previous period",
                self.kpi.as_deref().unwrap_or("the KPI"),
                self.change_pct.unwrap_or_default()
            ),
            SendKind::HasData => "Only when the report has data".into(),
        }
    }
}

/// A schedule as sent (create) — every field optional on PATCH.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleInput {
    /// The template (REST create of a schedule only).
    #[serde(default)]
    pub template_id: Option<String>,
    /// Name (default "Schedule").
    #[serde(default)]
    pub name: Option<String>,
    /// 5-field cron.
    #[serde(default)]
    pub cron_expression: Option<String>,
    /// IANA zone (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Destination ids.
    #[serde(default)]
    pub destinations: Option<Vec<String>>,
    /// Enabled (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A template as sent (create) — every field optional on PATCH.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInput {
    /// Name, ≤ 200 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Dashboard key.
    #[serde(default)]
    pub dashboard: Option<String>,
    /// Period key (default 7d).
    #[serde(default)]
    pub period: Option<String>,
    /// Segment filter.
    #[serde(default)]
    pub segment_id: Option<String>,
    /// Source parameters on screen (`groupBy`, `model`).
    #[serde(default)]
    pub params: Option<std::collections::BTreeMap<String, String>>,
    /// Formats (≥ 1 of pdf, csv, md, html, xlsx).
    #[serde(default)]
    pub formats: Option<Vec<String>>,
    /// Narrative settings.
    #[serde(default)]
    pub narrative: Option<NarrativeSettings>,
    /// Used when a schedule has no destinations, and by Run Now without a schedule.
    #[serde(default)]
    pub fallback_destinations: Option<Vec<String>>,
    /// Enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Paper and orientation of the PDF and the printed HTML (default A4 portrait).
    #[serde(default)]
    pub page: Option<super::PageSetup>,
    /// When a run sends (default always).
    #[serde(default)]
    pub send_when: Option<SendWhen>,
    /// A schedule created in the same transaction.
    #[serde(default)]
    pub schedule: Option<ScheduleInput>,
}

/// A schedule as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// Id.
    pub id: String,
    /// Template.
    pub template_id: String,
    /// Name.
    pub name: String,
    /// Cron.
    pub cron_expression: String,
    /// Zone.
    pub timezone: String,
    /// Destination ids.
    pub destinations: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// Next firing, RFC 3339 UTC (None when disabled or parked).
    pub next_run_at: Option<String>,
    /// "Every Monday at 08:00 Europe/Paris".
    pub description: String,
    /// Why the schedule cannot fire, if so.
    pub parked_reason: Option<String>,
    /// The latest run's status.
    pub last_status: Option<RunStatus>,
    /// Why the scheduler could not start the last due run (cleared by the next good claim).
    #[serde(default)]
    pub last_error: Option<String>,
}

/// A template as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Dashboard key.
    pub dashboard: String,
    /// Period key.
    pub period: String,
    /// Segment filter.
    pub segment_id: Option<String>,
    /// Source parameters.
    pub params: std::collections::BTreeMap<String, String>,
    /// Formats.
    pub formats: Vec<String>,
    /// Narrative settings.
    pub narrative: NarrativeSettings,
    /// Fallback destinations.
    pub fallback_destinations: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// Paper and orientation (a run snapshot from before page setup reads as A4 portrait).
    #[serde(default)]
    pub page: super::PageSetup,
    /// When a run sends (a snapshot from before send conditions reads as always).
    #[serde(default)]
    pub send_when: SendWhen,
    /// Who created it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// Its schedules.
    pub schedules: Vec<ScheduleView>,
    /// The latest run's status, if any.
    pub last_run_status: Option<RunStatus>,
    /// The latest run's id, if any.
    pub last_run_id: Option<String>,
}

/// A run's narrative as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunNarrative {
    /// The summary.
    pub executive_summary: String,
    /// Takeaways.
    pub key_takeaways: Vec<String>,
    /// Who wrote it.
    pub provider: String,
    /// Whether the built-in narrator replaced a failed provider.
    pub fallback: bool,
}

/// An artifact as answered (the bytes are downloaded separately).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactView {
    /// Format key.
    pub format: String,
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Size.
    pub size_bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Whether the bytes were pruned by retention.
    pub pruned: bool,
    /// When pruned: how many days artifacts are kept (`NARRATE_ARTIFACT_RETENTION_DAYS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_days: Option<i64>,
}

/// One attempt of a delivery as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// 1 for the first; re-sends continue the count.
    pub number: i64,
    /// When it started, RFC 3339.
    pub at: String,
    /// `delivered`, `accepted`, `retry` or `failed`.
    pub result: String,
    /// The HTTP status, if any.
    pub http_status: Option<i64>,
    /// What went wrong (secret-free).
    pub error: Option<String>,
    /// Whether a re-send made it.
    pub resend: bool,
}

/// A re-send of a delivery as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendView {
    /// Id.
    pub id: String,
    /// Who asked.
    pub requested_by: String,
    /// When, RFC 3339.
    pub requested_at: String,
    /// Its status.
    pub status: DeliveryStatus,
    /// Its error.
    pub error: Option<String>,
}

/// A delivery as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// The delivery id (receivers see it; stable across retries and re-sends).
    pub id: String,
    /// Destination.
    pub destination_id: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Where it stands now: the latest re-send's status when it was re-sent.
    pub status: DeliveryStatus,
    /// What the run itself recorded (unchanged by re-sends).
    pub run_status: DeliveryStatus,
    /// Attempts, re-sends included.
    pub attempts: i64,
    /// The current error or skip reason.
    pub error: Option<String>,
    /// Every attempt, in order.
    pub history: Vec<AttemptView>,
    /// Re-sends, oldest first.
    pub resends: Vec<ResendView>,
}

/// A run as answered.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    /// Id.
    pub id: String,
    /// Template.
    pub template_id: String,
    /// Schedule, if scheduled.
    pub schedule_id: Option<String>,
    /// What started it.
    pub trigger: Trigger,
    /// Who (email, `scheduler`).
    pub triggered_by: String,
    /// Status.
    pub status: RunStatus,
    /// Phase.
    pub phase: RunPhase,
    /// The slot, for scheduled runs (RFC 3339).
    pub scheduled_for: Option<String>,
    /// RFC 3339.
    pub started_at: Option<String>,
    /// RFC 3339.
    pub finished_at: Option<String>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// The narrative.
    pub narrative: Option<RunNarrative>,
    /// Artifacts.
    pub artifacts: Vec<ArtifactView>,
    /// Deliveries.
    pub deliveries: Vec<DeliveryView>,
    /// Why it failed.
    pub error: Option<String>,
    /// Why it sent nothing (a `skipped` run: its send condition did not hold).
    #[serde(default)]
    pub skip_reason: Option<String>,
    /// The template's name (from the run's own inputs).
    pub template_name: String,
    /// The period, in words and dates.
    pub period: String,
    /// Section titles and row counts.
    pub sections: Vec<(String, usize)>,
}

/// A file a destination would receive.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentPreview {
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Size.
    pub size_bytes: i64,
}

/// What one destination would receive for a report (`POST
/// /notifications/destinations/{id}/preview`): built by the code that delivers, nothing sent,
/// secrets redacted.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPreview {
    /// `slack`, `teams`, `email` or `webhook`.
    pub kind: String,
    /// The destination's name.
    pub name: String,
    /// Email: the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Email: the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Email: the reply-to address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Email: the recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// Slack: the notification text; email: the plain-text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Slack: the Block Kit blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub blocks: Option<serde_json::Value>,
    /// Teams: the Adaptive Card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub card: Option<serde_json::Value>,
    /// Email: the HTML body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Webhook: the JSON body (inline files shortened to their size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub json: Option<serde_json::Value>,
    /// Webhook: the request headers, secret values redacted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The attached files (email when they fit the size cap; webhook inline or as links).
    #[serde(default)]
    pub attachments: Vec<AttachmentPreview>,
    /// Files sent as signed links instead (Slack; email over the size cap).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Slack and Teams: the message drawn as HTML the way the app lays it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawn: Option<String>,
    /// Why this destination would not receive it as shown (email not configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A delivery preview's request: a saved template by id, or the template being edited (the
/// fields of a template body).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewInput {
    /// A saved template of the tenant; when set, the body's other fields are ignored.
    #[serde(default)]
    pub template_id: Option<String>,
    /// The template as being edited.
    #[serde(flatten)]
    pub template: TemplateInput,
}
