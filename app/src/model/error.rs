//! The one error envelope of PRODUCT §11, shared by REST handlers and server functions.
//!
//! Policy: the engine uses narrow error enums; at the boundary they become an [`AppError`] with a
//! stable code, the HTTP status and a message that is safe to show. Internal details (SQL, I/O)
//! are logged once on the server and replaced by a generic message; secrets never appear here.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable error codes of the API.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// 400: the body could not be read (malformed JSON, wrong encoding).
    BadRequest,
    /// 401: not signed in, bad credentials, bad API key.
    Unauthenticated,
    /// 403: signed in but the role does not allow it, or a CSRF check failed.
    Forbidden,
    /// 404: unknown id, or another tenant's id.
    NotFound,
    /// 409: a uniqueness conflict.
    Conflict,
    /// 413: request body too large.
    PayloadTooLarge,
    /// 422: the input was understood but is invalid.
    ValidationError,
    /// 429: too many attempts.
    RateLimited,
    /// 500: something went wrong on our side; no detail is leaked.
    Internal,
    /// 503: a required piece of configuration is missing.
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::ValidationError => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// One invalid field of a request.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name as the caller sent it (camelCase), or `rows[3].outcome` for batches.
    pub field: String,
    /// What is wrong with it, in words a user can act on.
    pub message: String,
}

/// An error as the API answers it: `{"error": AppError}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// The stable code.
    pub code: ErrorCode,
    /// A safe, human-readable message.
    pub message: String,
    /// The HTTP status (mirrors `code`).
    pub status: u16,
    /// Per-field problems, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
    /// The run a conflict is about (Run Now while a run is queued or running).
    #[serde(default, rename = "runId", skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

impl AppError {
    /// An error with a code and message and no field details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into(), status: code.status(), details: Vec::new(), run_id: None }
    }
    /// The same error, about a run.
    pub fn with_run(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }
    /// 401 with a message.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }
    /// 403 with a message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    /// 404 naming what was not found.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    /// 409 with a message.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    /// 422 for a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.into(), message: message.into() }])
    }
    /// 422 for several fields; the message names the first.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.first() {
            Some(first) if details.len() == 1 => format!("{}: {}", first.field, first.message),
            Some(first) => format!("{}: {} (and {} more)", first.field, first.message, details.len() - 1),
            None => "the request is invalid".to_string(),
        };
        AppError { details, ..Self::new(ErrorCode::ValidationError, message) }
    }
    /// 500 with the generic message; the cause must be logged by the caller.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "something went wrong on our side; please try again")
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(m) | E::Response(m) => {
                AppError::new(ErrorCode::Unavailable, format!("the server could not be reached: {m}"))
            }
            E::Args(m) | E::Deserialization(m) => AppError::new(ErrorCode::BadRequest, m),
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_error_serialises_to_the_product_envelope_shape() {
        let e = AppError::invalid("cronExpression", "minute field: 61 is out of range 0-59");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "VALIDATION_ERROR");
        assert_eq!(v["status"], 422);
        assert_eq!(v["details"][0]["field"], "cronExpression");
        assert!(v["message"].as_str().unwrap().contains("minute field"));
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let v = serde_json::to_value(AppError::internal()).unwrap();
        assert_eq!(v["code"], "INTERNAL");
        assert!(v.get("details").is_none());
    }
}
