//! Cost controls: actions that make the server work hard or reach outside — exports (rendering,
//! narratives), Run Now (a whole run with deliveries), destination tests (outbound messages) —
//! are rate-limited per caller with a token bucket: a burst of `per_minute`, refilled evenly over a
//! minute. Memory is bounded like the sign-in throttle: 16-byte hashed keys, idle buckets
//! forgotten, at most [`MAX_BUCKETS`]. The limits are per server process.

use crate::model::{AppError, ErrorCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Most callers remembered at once.
pub const MAX_BUCKETS: usize = 50_000;

/// A rate-limited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `POST /reports/preview`: an export.
    Export,
    /// Run Now of a saved report.
    RunNow,
    /// A destination's Test button.
    DestinationTest,
}

impl Action {
    /// How many a caller may do in a minute (and at once).
    pub fn per_minute(self) -> u32 {
        match self {
            Action::Export => 30,
            Action::RunNow => 30,
            Action::DestinationTest => 10,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Action::Export => "exports",
            Action::RunNow => "Run Now",
            Action::DestinationTest => "destination tests",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: i64,
}

/// The buckets of every caller and action.
#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<[u8; 16], Bucket>>,
}

impl RateLimits {
    /// Takes one `action` for `who` (tenant and actor) at `now`; 429 when the bucket is empty.
    pub fn take(&self, action: Action, tenant_id: &str, who: &str, now: i64) -> Result<(), AppError> {
        let per_minute = f64::from(action.per_minute());
        let key: [u8; 16] =
            Sha256::digest(format!("{action:?}\0{tenant_id}\0{who}").as_bytes())[..16].try_into().expect("16 bytes");
        let mut map = self.buckets.lock().expect("rate limits");
        if map.len() >= MAX_BUCKETS {
            map.retain(|_, b| now - b.at < 60_000);
            if map.len() >= MAX_BUCKETS {
                map.clear();
            }
        }
        let b = map.entry(key).or_insert(Bucket { tokens: per_minute, at: now });
        let refill = (now - b.at).max(0) as f64 / 60_000.0 * per_minute;
        b.tokens = (b.tokens + refill).min(per_minute);
        b.at = now;
        if b.tokens < 1.0 {
            let wait = ((1.0 - b.tokens) / per_minute * 60.0).ceil().max(1.0);
            return Err(AppError::new(
                ErrorCode::RateLimited,
                format!("too many {} (at most {} a minute); try again in {wait} s", action.name(), action.per_minute()),
            ));
        }
        b.tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_one_more_every_few_seconds() {
        let l = RateLimits::default();
        for _ in 0..10 {
            l.take(Action::DestinationTest, "t", "ana", 0).unwrap();
        }
        let e = l.take(Action::DestinationTest, "t", "ana", 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.message.contains("at most 10 a minute"), "{}", e.message);
        assert!(l.take(Action::DestinationTest, "t", "bo", 0).is_ok(), "another caller has their own bucket");
        assert!(l.take(Action::Export, "t", "ana", 0).is_ok(), "and another action");
        assert!(l.take(Action::DestinationTest, "t", "ana", 5_999).is_err());
        assert!(l.take(Action::DestinationTest, "t", "ana", 6_100).is_ok(), "one token every 6 s");
    }
}
