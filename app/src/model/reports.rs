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
    /// Formats (≥ 1 of pdf, csv, md, html).
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
    /// The template's name (from the run's own inputs).
    pub template_name: String,
    /// The period, in words and dates.
    pub period: String,
    /// Section titles and row counts.
    pub sections: Vec<(String, usize)>,
}
