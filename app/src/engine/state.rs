//! The application state every handler, server function and background task receives.

use super::auth::LoginLimiter;
use super::{Clock, Config, Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Shared, cheaply clonable state.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Configuration read at start.
    pub config: Arc<Config>,
    /// Now, in tests controllable.
    pub clock: Clock,
    /// Leptos' site options (site root, output name).
    pub leptos_options: LeptosOptions,
    /// Slows down password guessing.
    pub login_limiter: Arc<LoginLimiter>,
    /// Per-caller limits on costly actions (exports, Run Now, destination tests).
    pub rate_limits: Arc<super::limits::RateLimits>,
    /// The Executive dashboard's narratives, one hour per tenant and filter.
    pub narrative_cache: Arc<super::narrative::Cache>,
    /// The built-in ticker's health (last good tick, failures).
    pub ticker: Arc<super::scheduler::ticker::TickerHealth>,
    /// When any tick last ran on this process (built-in or `POST /api/cron/tick`; epoch ms, 0 =
    /// never), for the Reports banner.
    pub last_tick: Arc<std::sync::atomic::AtomicI64>,
    /// The run executor; it also knows this process's instance id and the leases it holds.
    pub executor: Arc<super::scheduler::Executor>,
    /// When artifact retention last pruned (epoch ms, 0 = never); it runs at most hourly.
    pub last_prune: Arc<std::sync::atomic::AtomicI64>,
}

impl AppState {
    /// Builds the state from its parts.
    pub fn new(db: Db, config: Config, clock: Clock, leptos_options: LeptosOptions) -> Self {
        AppState {
            db,
            config: Arc::new(config.clone()),
            clock,
            leptos_options,
            login_limiter: Arc::new(LoginLimiter::default()),
            rate_limits: Arc::default(),
            narrative_cache: Arc::new(super::narrative::Cache::default()),
            ticker: Arc::default(),
            last_tick: Arc::new(std::sync::atomic::AtomicI64::new(0)),
            executor: super::scheduler::Executor::new(config.max_concurrent_runs, &instance_id()),
            last_prune: Arc::new(std::sync::atomic::AtomicI64::new(0)),
        }
    }
}

/// This process's instance id: runs it creates are owned by it until they finish.
fn instance_id() -> String {
    let host =
        std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty() && h.len() <= 40).unwrap_or_else(|| "narrate".into());
    format!("{host}-{}-{}", std::process::id(), &super::new_id()[24..])
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
