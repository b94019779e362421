//! Extractors that answer in the error envelope: the caller ([`Auth`]) and JSON bodies ([`Body`]).

use app::engine::auth::Principal;
use app::model::{AppError, ErrorCode};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The authenticated caller; 401 in the envelope when absent.
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Auth)
            .ok_or_else(|| AppError::unauthenticated("please sign in or send X-API-Key"))
    }
}

/// A JSON object body; malformed JSON is 400, a wrong shape 422, both in the envelope. Every body
/// the API takes is an object: anything else is refused here, before serde — whose derived
/// structs also accept an array of their fields in order, so `[]` once passed for an update
/// whose fields are all optional.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) if !v.is_object() => {
                Err(AppError::new(ErrorCode::ValidationError, "the body must be a JSON object"))
            }
            Ok(axum::Json(v)) => serde_json::from_value(v)
                .map(Body)
                .map_err(|e| AppError::new(ErrorCode::ValidationError, format!("the body does not fit: {e}"))),
            Err(JsonRejection::JsonDataError(e)) => Err(AppError::new(ErrorCode::ValidationError, e.body_text())),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(AppError::new(ErrorCode::BadRequest, format!("malformed JSON: {}", e.body_text())))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::new(ErrorCode::BadRequest, "send the body as JSON (Content-Type: application/json)"))
            }
            Err(JsonRejection::BytesRejection(_)) => {
                Err(AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large or unreadable"))
            }
            Err(e) => Err(AppError::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}

/// Unknown API paths answer 404 in the envelope.
pub async fn not_found() -> AppError {
    AppError::not_found("endpoint")
}

/// Query parameters; a wrong shape is 422 in the envelope (axum's own rejection is plain text).
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(AppError::new(ErrorCode::ValidationError, e.body_text())),
        }
    }
}

/// Path segments; undecodable ones are 400 in the envelope.
pub struct Ids<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Ids<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Ids(v)),
            Err(e) => Err(AppError::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}
