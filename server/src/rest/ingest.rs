//! `POST /interactions` and `POST /decisions`: batches as a JSON array or NDJSON (editor, or an
//! API key with the editor role). `202 {"accepted": n}` or `422` listing every bad row.

use super::extract::Auth;
use app::engine::ingest;
use app::engine::AppState;
use app::model::{AppError, Role};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// Ingests interactions.
pub async fn interactions(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let rows = ingest::parse_rows(&body)?;
    let n = ingest::interactions(&s.db, &p.tenant_id, rows, s.clock.now_ms()).await?;
    tracing::info!(event = "ingest.interactions", tenant.id = %p.tenant_id, rows = n, "batch accepted");
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": n }))))
}

/// Ingests decisions.
pub async fn decisions(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    p.require(Role::Editor)?;
    let rows = ingest::parse_rows(&body)?;
    let n = ingest::decisions(&s.db, &p.tenant_id, rows, s.clock.now_ms()).await?;
    tracing::info!(event = "ingest.decisions", tenant.id = %p.tenant_id, rows = n, "batch accepted");
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": n }))))
}
