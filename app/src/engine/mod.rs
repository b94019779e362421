//! The server-side engine (compiled only with the `ssr` feature): configuration, storage,
//! identity, demo data. REST handlers, server functions and background tasks all enter here, so
//! the same rule is enforced whichever door a request came through.

pub mod ai_settings;
pub mod auth;
pub mod catalogue;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod destinations;
pub mod error;
pub mod ingest;
pub mod limits;
pub mod metrics;
pub mod narrative;
pub mod outbound;
pub mod render;
pub mod report;
pub mod rollups;
pub mod scheduler;
pub mod schedules;
pub mod sources;
pub mod state;
pub mod store;
pub mod team;
pub mod templates;

pub use clock::Clock;
pub use config::Config;
pub use db::Db;
pub use state::AppState;

/// A fresh, time-ordered id (UUID v7 as text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
