//! The small envelopes of the REST API (PRODUCT §11): lists, pages and acknowledgements. The
//! handlers answer these types and the OpenAPI document of `/api/v1` is derived from them, so the
//! document cannot drift from what is sent.

use super::AppError;
use serde::{Deserialize, Serialize};

/// A list: `{"data": [...]}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    /// The items.
    pub data: Vec<T>,
}

impl<T> From<Vec<T>> for List<T> {
    fn from(data: Vec<T>) -> Self {
        List { data }
    }
}

/// A page of a longer list: `{"data", "total", "limit", "offset"}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// How many items there are in all.
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub total: i64,
    /// The page size asked for (1–200).
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: i64,
    /// How many items were skipped.
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub offset: i64,
}

/// `202` for Run Now: the run that was queued.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunAccepted {
    /// Follow it with `GET /reports/runs/{runId}`.
    pub run_id: String,
}

/// `202` for a re-send of one delivery.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendAccepted {
    /// The re-send, listed under the delivery's `resends` in the run.
    pub resend_id: String,
    /// The delivery being re-sent.
    pub delivery_id: String,
    /// Its run.
    pub run_id: String,
}

/// `202` for an ingest batch.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Rows stored.
    pub accepted: u64,
}

/// `GET /reports/schedules/preview`: the next fire times.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireTimes {
    /// RFC 3339 instants, in UTC, earliest first.
    pub next: Vec<String>,
}

/// `DELETE /me/sessions`: how many sessions ended.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsEnded {
    /// Sessions ended, this one included.
    pub sessions_ended: u64,
}

/// Every error: `{"error": {...}}`; a conflict about a run also names it as `runId`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The error.
    pub error: AppError,
    /// The run in flight (409 on Run Now only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}
