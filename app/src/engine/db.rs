//! The database handle: one code path for SQLite (default, embedded) and PostgreSQL.
//!
//! Queries are portable SQL run through sqlx's `Any` driver with `$1` placeholders (both SQLite
//! and PostgreSQL accept them). Dialect differences are confined to the migrations and to the
//! few functions here that name a [`Dialect`].

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A pooled connection to the application database.
#[derive(Clone, Debug)]
pub struct Db {
    /// The pool; store functions take `&Db` and use it directly or open a transaction on it.
    pub pool: AnyPool,
    /// The dialect behind the pool.
    pub dialect: Dialect,
    /// Per-day rollup sums already read, validated against `rollup_days` on every use.
    pub day_cache: std::sync::Arc<super::sources::daily::DayCache>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Connects (creating a SQLite file and its folder if missing) and applies migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, DEFAULT_SQLITE_BUSY_TIMEOUT_MS).await
    }

    /// [`Db::connect`] with SQLite's busy timeout (how long a writer waits for the write lock
    /// before answering SQLITE_BUSY, which [`retry_transient`] then retries).
    pub async fn connect_with(url: &str, sqlite_busy_timeout_ms: u64) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        sqlx::any::install_default_drivers();
        let (dialect, url) = if url.starts_with("sqlite:") {
            (Dialect::Sqlite, prepare_sqlite_url(url)?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Dialect::Postgres, url.to_string())
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://");
        };
        let max = if dialect == Dialect::Sqlite { 8 } else { 16 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = {sqlite_busy_timeout_ms}; PRAGMA foreign_keys = ON;"
                        );
                        conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .context("connecting to the database")?;
        let migrator = match dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.context("applying migrations")?;
        Ok(Db { pool, dialect, day_cache: Default::default() })
    }
}

/// Adds `mode=rwc` (create if missing) and creates the file's folder.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if !path.is_empty() && path != ":memory:" {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Reads an i64 column that may come back as any integer width.
pub fn get_i64(row: &AnyRow, col: &str) -> i64 {
    use sqlx::Row;
    row.try_get::<i64, _>(col).or_else(|_| row.try_get::<i32, _>(col).map(i64::from)).unwrap_or_default()
}

/// Reads an optional i64 column.
pub fn get_opt_i64(row: &AnyRow, col: &str) -> Option<i64> {
    use sqlx::Row;
    row.try_get::<Option<i64>, _>(col).ok().flatten()
}

/// Reads an f64 column.
pub fn get_f64(row: &AnyRow, col: &str) -> f64 {
    use sqlx::Row;
    row.try_get::<f64, _>(col).or_else(|_| row.try_get::<i64, _>(col).map(|v| v as f64)).unwrap_or_default()
}

/// Reads a text column.
pub fn get_str(row: &AnyRow, col: &str) -> String {
    use sqlx::Row;
    row.try_get::<String, _>(col).unwrap_or_default()
}

/// Reads an optional text column.
pub fn get_opt_str(row: &AnyRow, col: &str) -> Option<String> {
    use sqlx::Row;
    row.try_get::<Option<String>, _>(col).ok().flatten()
}

/// Whether a database error is a uniqueness violation (both dialects).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation() || d.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// SQLite's default busy timeout: a writer waits this long for the write lock.
pub const DEFAULT_SQLITE_BUSY_TIMEOUT_MS: u64 = 15_000;

/// Whether a database error is transient contention worth retrying: SQLite BUSY/LOCKED (the
/// write lock stayed taken past the busy timeout, or a read snapshot could not be upgraded), or a
/// PostgreSQL serialization failure, deadlock or lock timeout.
pub fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            matches!(code.as_str(), "5" | "6" | "261" | "262" | "517" | "773" | "40001" | "40P01" | "55P03")
                || d.message().contains("database is locked")
                || d.message().contains("database table is locked")
        }
        _ => false,
    }
}

/// Whether a database error is worth retrying: contention ([`is_busy`]), a pool with no free
/// connection in time, or a connection that broke (the database restarted or the network blinked).
pub fn is_transient(e: &sqlx::Error) -> bool {
    is_busy(e) || matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed)
}

/// Runs `op` again while it fails with a transient error ([`is_transient`]): up to 7 more times
/// with doubling, jittered waits (about 6 s in all), so a scheduler or delivery write is not lost
/// to a briefly busy or unreachable database. Every retry is logged with `what`.
pub async fn retry_transient<T, F, Fut>(what: &str, mut op: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut wait_ms = 50u64;
    let mut tries = 0;
    loop {
        match op().await {
            Err(e) if is_transient(&e) && tries < 7 => {
                tries += 1;
                tracing::warn!(event = "db.busy_retry", what, attempt = tries, error.message = %e, "database busy; retrying");
                let jitter = rand::random::<u64>() % (wait_ms / 2 + 1);
                tokio::time::sleep(Duration::from_millis(wait_ms + jitter)).await;
                wait_ms *= 2;
            }
            other => return other,
        }
    }
}

/// One value of a bulk insert.
#[derive(Debug, Clone)]
pub enum Val {
    /// An integer.
    I(i64),
    /// A float.
    F(f64),
    /// Text.
    S(String),
    /// Optional text.
    OptS(Option<String>),
}

/// Largest number of bind parameters per statement (under both SQLite's and PostgreSQL's limits).
const MAX_PARAMS: usize = 20_000;

/// Inserts many rows with multi-row `VALUES`, chunked under the parameter limit.
/// `head` is `INSERT INTO t (a, b, c)`; `tail` is appended (e.g. an `ON CONFLICT` clause).
pub async fn bulk_insert(
    conn: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: &[Vec<Val>],
) -> Result<(), sqlx::Error> {
    let Some(first) = rows.first() else { return Ok(()) };
    let ncols = first.len();
    // SQLite looks named parameters (`$n`) up by a linear scan, which makes a 20 000-parameter
    // statement quadratic; plain `?` placeholders bind by position. PostgreSQL needs `$n`.
    let positional = conn.backend_name() == "SQLite";
    let per_chunk = (MAX_PARAMS / ncols).max(1);
    for chunk in rows.chunks(per_chunk) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * ncols * 5 + tail.len() + 16);
        sql.push_str(head);
        sql.push_str(" VALUES ");
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..ncols {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                if positional {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(tail);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for v in row {
                q = match v {
                    Val::I(x) => q.bind(*x),
                    Val::F(x) => q.bind(*x),
                    Val::S(x) => q.bind(x.as_str()),
                    Val::OptS(x) => q.bind(x.as_deref()),
                };
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
