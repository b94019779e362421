//! `POST /interactions` and `POST /decisions`: batches as a JSON array or NDJSON (editor, or an
//! API key with the editor role). `202 {"accepted": n}` or `422` listing every bad row.

use super::extract::Auth;
use app::engine::ingest::{self, DecisionRow, InteractionRow};
use app::engine::AppState;
use app::model::api::Accepted;
use app::model::{AppError, Role};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Ingests interactions.
#[utoipa::path(post, path = "/interactions", tag = "ingest", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    request_body(description = "A JSON array of rows, or one JSON object per line (NDJSON); at most 200 000 rows, refused whole if any row is invalid",
        content((Vec<InteractionRow> = "application/json"), (String = "application/x-ndjson"))),
    responses((status = 202, description = "Stored", body = Accepted)))]
pub async fn interactions(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    p.require(Role::Editor)?;
    let rows = ingest::parse_rows::<InteractionRow>(&body)?;
    let n = ingest::interactions(&s.db, &p.tenant_id, rows, s.clock.now_ms()).await?;
    tracing::info!(event = "ingest.interactions", tenant.id = %p.tenant_id, rows = n, "batch accepted");
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: n as u64 })))
}

/// Ingests decisions.
#[utoipa::path(post, path = "/decisions", tag = "ingest", security(("apiKey" = ["editor"]), ("session" = ["editor"])),
    request_body(description = "A JSON array of rows, or one JSON object per line (NDJSON); at most 200 000 rows, refused whole if any row is invalid",
        content((Vec<DecisionRow> = "application/json"), (String = "application/x-ndjson"))),
    responses((status = 202, description = "Stored", body = Accepted)))]
pub async fn decisions(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    p.require(Role::Editor)?;
    let rows = ingest::parse_rows::<DecisionRow>(&body)?;
    let n = ingest::decisions(&s.db, &p.tenant_id, rows, s.clock.now_ms()).await?;
    tracing::info!(event = "ingest.decisions", tenant.id = %p.tenant_id, rows = n, "batch accepted");
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: n as u64 })))
}
