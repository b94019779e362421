//! `report_artifacts`, the one writer: a run's rendered files (one per format), their bytes, and
//! retention, which drops old bytes in small batches and keeps sizes and checksums. A finished
//! run's artifacts change in no other way (database trigger).

use crate::engine::db::{get_i64, get_opt_i64, get_str};
use crate::engine::new_id;
use sqlx::{AnyConnection, AnyPool};

/// An artifact's metadata (the bytes are read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRow {
    /// The run.
    pub run_id: String,
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
    /// Whether retention dropped the bytes.
    pub pruned: bool,
}

/// An artifact to store.
pub struct NewArtifact<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Run.
    pub run_id: &'a str,
    /// Format key.
    pub format: &'a str,
    /// File name.
    pub filename: &'a str,
    /// Media type.
    pub media_type: &'a str,
    /// SHA-256, hex.
    pub sha256: &'a str,
    /// The bytes.
    pub bytes: &'a [u8],
    /// Now.
    pub now: i64,
}

/// Stores an artifact (inside the run's fenced transaction).
pub async fn insert(conn: &mut AnyConnection, a: &NewArtifact<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO report_artifacts (id, tenant_id, run_id, format, filename, media_type, size_bytes, sha256, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(a.tenant_id)
    .bind(a.run_id)
    .bind(a.format)
    .bind(a.filename)
    .bind(a.media_type)
    .bind(a.bytes.len() as i64)
    .bind(a.sha256)
    .bind(a.bytes.to_vec())
    .bind(a.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The artifacts of these runs, in one query.
pub async fn list_for_runs(pool: &AnyPool, run_ids: &[String]) -> Result<Vec<ArtifactRow>, sqlx::Error> {
    if run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=run_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT run_id, format, filename, media_type, size_bytes, sha256, pruned_at FROM report_artifacts WHERE run_id IN ({}) ORDER BY run_id, format",
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in run_ids {
        q = q.bind(id.clone());
    }
    Ok(q.fetch_all(pool)
        .await?
        .iter()
        .map(|a| ArtifactRow {
            run_id: get_str(a, "run_id"),
            format: get_str(a, "format"),
            filename: get_str(a, "filename"),
            media_type: get_str(a, "media_type"),
            size_bytes: get_i64(a, "size_bytes"),
            sha256: get_str(a, "sha256"),
            pruned: get_opt_i64(a, "pruned_at").is_some(),
        })
        .collect())
}

/// An artifact with its bytes (None when pruned): (tenant id, row, bytes).
pub async fn get(
    pool: &AnyPool,
    run_id: &str,
    format: &str,
) -> Result<Option<(String, ArtifactRow, Option<Vec<u8>>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT tenant_id, run_id, format, filename, media_type, size_bytes, sha256, pruned_at, bytes FROM report_artifacts WHERE run_id = $1 AND format = $2",
    )
    .bind(run_id)
    .bind(format)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        let bytes: Option<Vec<u8>> = sqlx::Row::try_get(&r, "bytes").ok().flatten();
        let meta = ArtifactRow {
            run_id: get_str(&r, "run_id"),
            format: get_str(&r, "format"),
            filename: get_str(&r, "filename"),
            media_type: get_str(&r, "media_type"),
            size_bytes: get_i64(&r, "size_bytes"),
            sha256: get_str(&r, "sha256"),
            pruned: get_opt_i64(&r, "pruned_at").is_some(),
        };
        (get_str(&r, "tenant_id"), meta, bytes)
    }))
}

/// Drops the bytes of at most `batch` artifacts created before `before`; returns how many.
/// Callers loop until it answers fewer than `batch`, so no statement holds the write lock long.
pub async fn prune_batch(pool: &AnyPool, before: i64, now: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE report_artifacts SET bytes = NULL, pruned_at = $1 WHERE id IN \
         (SELECT id FROM report_artifacts WHERE pruned_at IS NULL AND created_at < $2 ORDER BY created_at LIMIT $3)",
    )
    .bind(now)
    .bind(before)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
