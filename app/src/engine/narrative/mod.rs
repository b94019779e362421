//! The narrative of a report (PRODUCT §10): `{executiveSummary, sections, keyTakeaways}` written
//! from the report's own data. The tenant's AI provider (or the environment's) writes it when
//! configured; the built-in narrator writes it otherwise, and also replaces any provider answer
//! that times out, errors, is malformed or cites a number that is not in the data — recording
//! `fallback: true` and the reason. A narrative failure never fails an export or a run.

pub mod builtin;
pub mod grounding;
pub mod news;
pub mod prompt;
pub mod providers;

use super::AppState;
use crate::model::{Narrative, Report};
use std::time::Duration;

/// Writes the narrative for a report of `tenant_id`.
pub async fn narrate(state: &AppState, tenant_id: &str, report: &Report, addendum: Option<&str>) -> Narrative {
    let config = match providers::resolve(state, tenant_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return builtin::narrate(report),
        Err(e) => return fallback(report, None, &format!("the AI provider settings could not be read: {}", e.message)),
    };
    let started = std::time::Instant::now();
    let limit = timeout(state);
    let result =
        tokio::time::timeout(limit, providers::complete(state, &config, &prompt::build(report, addendum))).await;
    let outcome = match result {
        Err(_) => Err(format!("the provider did not answer within {} s", limit.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(text)) => prompt::parse_answer(&text).and_then(|n| grounding::check(&n, report).map(|_| n)),
    };
    match outcome {
        Ok(mut n) => {
            tracing::info!(event = "narrative.generated", tenant.id = %tenant_id, provider = config.kind.as_str(), duration_ms = started.elapsed().as_millis() as u64, "narrative written");
            n.provider = config.kind.as_str().into();
            n.model = Some(config.model.clone());
            n
        }
        Err(reason) => {
            tracing::warn!(event = "narrative.fallback", tenant.id = %tenant_id, provider = config.kind.as_str(), reason = %reason, "provider narrative replaced by the built-in one");
            fallback(report, Some(&config), &reason)
        }
    }
}

/// How long a provider may take before the built-in narrator answers instead.
pub fn timeout(state: &AppState) -> Duration {
    Duration::from_secs(state.config.ai_timeout_secs.max(1) as u64)
}

fn fallback(report: &Report, config: Option<&providers::ProviderConfig>, reason: &str) -> Narrative {
    let mut n = builtin::narrate(report);
    n.fallback = true;
    n.fallback_reason = Some(reason.chars().take(300).collect());
    if let Some(c) = config {
        n.model = Some(format!("{} (failed: {})", c.model, c.kind.as_str()));
    }
    n
}

/// How long the Executive dashboard's narrative is reused.
pub const CACHE_TTL_MS: i64 = 3_600_000;

/// The Executive narrative cache: one entry per tenant and filter, one hour each.
#[derive(Default)]
pub struct Cache(std::sync::Mutex<std::collections::HashMap<String, (i64, Narrative)>>);

impl Cache {
    /// A fresh entry, if any.
    pub fn get(&self, key: &str, now: i64) -> Option<Narrative> {
        let map = self.0.lock().expect("narrative cache");
        map.get(key).filter(|(at, _)| now - at < CACHE_TTL_MS).map(|(_, n)| n.clone())
    }

    /// Stores an entry (and drops expired ones).
    pub fn put(&self, key: String, n: Narrative, now: i64) {
        let mut map = self.0.lock().expect("narrative cache");
        map.retain(|_, (at, _)| now - *at < CACHE_TTL_MS);
        map.insert(key, (now, n));
    }
}
