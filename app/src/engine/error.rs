//! The boundary between engine errors and the API envelope: converting, logging once, answering.

use crate::model::{AppError, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Logs an unexpected error with its context and returns the generic 500 (nothing leaks).
pub fn internal(context: &str, err: impl std::fmt::Display) -> AppError {
    tracing::error!(error.context = context, error.message = %err, "internal error");
    AppError::internal()
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        internal("database", e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if self.code == ErrorCode::Internal {
            // The cause was logged where it happened; the caller sees only the generic message.
        }
        // A conflict about a run also names it at the top level (PRODUCT §13).
        let body = crate::model::api::ErrorBody { run_id: self.run_id.clone(), error: self };
        (status, axum::Json(body)).into_response()
    }
}
