//! The retry loop shared by every destination kind: exponential backoff with full jitter on
//! transient failures (connection errors, timeouts, HTTP 408, 429 and 5xx), `Retry-After`
//! honoured, no retry on other failures, bounded by a number of attempts and a total time.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;

use super::{Attempt, AttemptRecord, DeliveryStatus, Outcome, Reply, Settings};

/// The longest backoff step, whatever the attempt number.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What an HTTP status means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 2xx: delivered.
    Success,
    /// 408, 429, 5xx: try again.
    Retry,
    /// Anything else (1xx, 3xx — redirects are not followed —, other 4xx): give up.
    Fail,
}

/// Classifies an HTTP status.
pub fn classify(status: u16) -> Class {
    match status {
        200..=299 => Class::Success,
        408 | 429 | 500..=599 => Class::Retry,
        _ => Class::Fail,
    }
}

/// Parses a `Retry-After` value — delay seconds or an HTTP-date — into a wait from `now`.
/// A date in the past means no wait; anything else unreadable is `None`.
pub fn parse_retry_after(v: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok().map(Duration::from_secs);
    }
    let when = http_date(v)?;
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP-date in any of its three forms (IMF-fixdate, RFC 850, asctime).
fn http_date(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc2822(v) {
        return Some(d.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .map(|n| n.and_utc())
}

/// The backoff ceiling before attempt `attempt + 1`: base × 2^(attempt−1), at most 30 s.
pub fn backoff_cap(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(31)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(MAX_BACKOFF).min(MAX_BACKOFF)
}

/// A random wait in [0, cap] (full jitter).
pub fn jitter(cap: Duration) -> Duration {
    let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(0..=ms))
}

/// Runs `attempt` (given the attempt number, from 1) until it succeeds, fails permanently, or the
/// attempts or the time run out. `on_attempt` sees every attempt's record as soon as it ends.
pub async fn run<F, Fut>(settings: &Settings, mut on_attempt: impl FnMut(&AttemptRecord), mut attempt: F) -> Outcome
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Reply>,
{
    let started = Instant::now();
    let mut log = Vec::new();
    let mut number = 0;
    loop {
        number += 1;
        let at = Utc::now();
        let budget = settings.max_total.saturating_sub(started.elapsed());
        let reply = match tokio::time::timeout(budget, attempt(number)).await {
            Ok(reply) => reply,
            Err(_) => Reply::retry("timed out (the delivery's time limit was reached)"),
        };
        let step = next_step(settings, number, started, &reply.attempt);
        let mut record = record(number, at, &reply);
        if matches!(step, Step::GiveUp(_)) {
            record.result = "failed".into();
        }
        on_attempt(&record);
        log.push(record);
        match step {
            Step::Done => return finish_with(reply.attempt, log),
            Step::GiveUp(error) => return finish(DeliveryStatus::Failed, Some(error), None, log),
            Step::Wait(wait) => tokio::time::sleep(wait).await,
        }
    }
}

/// What follows an attempt.
enum Step {
    /// The attempt settled the delivery.
    Done,
    /// A transient failure, but no attempt or time is left: the final error.
    GiveUp(String),
    /// Try again after this wait.
    Wait(Duration),
}

/// Decides what follows an attempt: stop, give up, or wait (Retry-After, else jittered backoff).
fn next_step(settings: &Settings, number: u32, started: Instant, attempt: &Attempt) -> Step {
    let Attempt::Retry { error, retry_after } = attempt else {
        return Step::Done;
    };
    if number >= settings.max_attempts.max(1) {
        return Step::GiveUp(gave_up(number, started, error, None));
    }
    let remaining = settings.max_total.saturating_sub(started.elapsed());
    let wait = retry_after.unwrap_or_else(|| jitter(backoff_cap(settings.base_backoff, number)));
    if wait >= remaining {
        let why = format!("the {} s time limit leaves no room for another attempt", settings.max_total.as_secs());
        return Step::GiveUp(gave_up(number, started, error, Some(&why)));
    }
    Step::Wait(wait)
}

/// The outcome of a settled delivery.
fn finish_with(attempt: Attempt, log: Vec<AttemptRecord>) -> Outcome {
    match attempt {
        Attempt::Delivered { response_id } => finish(DeliveryStatus::Delivered, None, response_id, log),
        Attempt::Accepted { response_id } => finish(DeliveryStatus::Accepted, None, response_id, log),
        Attempt::Fail { error } | Attempt::Retry { error, .. } => {
            finish(DeliveryStatus::Failed, Some(error), None, log)
        }
    }
}

/// The ledger's record of one attempt.
fn record(number: u32, at: DateTime<Utc>, reply: &Reply) -> AttemptRecord {
    let (result, error) = match &reply.attempt {
        Attempt::Delivered { .. } => ("delivered", None),
        Attempt::Accepted { .. } => ("accepted", None),
        Attempt::Retry { error, .. } => ("retry", Some(error.clone())),
        Attempt::Fail { error } => ("failed", Some(error.clone())),
    };
    AttemptRecord { number, at, result: result.to_string(), error, http_status: reply.http_status }
}

/// "gave up after 3 attempts in 4.2 s: HTTP 503: busy".
fn gave_up(attempts: u32, started: Instant, error: &str, why: Option<&str>) -> String {
    let noun = if attempts == 1 { "attempt" } else { "attempts" };
    let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
    format!("gave up after {attempts} {noun} in {:.1} s{why}: {error}", started.elapsed().as_secs_f64())
}

/// The outcome from the final status and the log.
fn finish(
    status: DeliveryStatus,
    error: Option<String>,
    response_id: Option<String>,
    log: Vec<AttemptRecord>,
) -> Outcome {
    Outcome { status, attempts: log.len() as u32, error, response_id, attempt_log: log }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(max_attempts: u32) -> Settings {
        Settings { max_attempts, base_backoff: Duration::from_millis(2), ..Settings::default() }
    }

    #[test]
    fn statuses_are_classified_as_success_retry_or_fail() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify(s), Class::Success, "{s}");
        }
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify(s), Class::Retry, "{s}");
        }
        for s in [100, 301, 302, 307, 400, 401, 403, 404, 410, 413, 422] {
            assert_eq!(classify(s), Class::Fail, "{s}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Wed Oct 21 07:28:10 2015", now), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a past date means now"
        );
        for bad in ["", "soon", "-1", "1.5"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_thirty_seconds() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff_cap(base, 1), Duration::from_secs(1));
        assert_eq!(backoff_cap(base, 2), Duration::from_secs(2));
        assert_eq!(backoff_cap(base, 5), Duration::from_secs(16));
        assert_eq!(backoff_cap(base, 6), MAX_BACKOFF);
        assert_eq!(backoff_cap(base, 40), MAX_BACKOFF);
        for _ in 0..200 {
            assert!(jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
    }

    #[tokio::test]
    async fn a_transient_failure_is_retried_until_the_attempts_run_out() {
        let mut seen = Vec::new();
        let out = run(&fast(3), |r| seen.push(r.clone()), |_| async { Reply::retry("could not connect") }).await;
        assert_eq!(out.status, DeliveryStatus::Failed);
        assert_eq!(out.attempts, 3);
        let error = out.error.unwrap();
        assert!(error.starts_with("gave up after 3 attempts in "), "{error}");
        assert!(error.ends_with(": could not connect"), "{error}");
        assert_eq!(seen.iter().map(|r| r.number).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(seen.iter().map(|r| r.result.as_str()).collect::<Vec<_>>(), vec!["retry", "retry", "failed"]);
        assert_eq!(seen[2].error.as_deref(), Some("could not connect"), "a record keeps its own attempt's error");
        assert_eq!(seen, out.attempt_log);
    }

    #[tokio::test]
    async fn a_permanent_failure_stops_at_the_first_attempt() {
        let calls = AtomicU32::new(0);
        let out = run(
            &fast(5),
            |_| {},
            |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Reply::fail("HTTP 400: invalid_payload") }
            },
        )
        .await;
        assert_eq!((out.status, out.attempts, calls.load(Ordering::SeqCst)), (DeliveryStatus::Failed, 1, 1));
        assert_eq!(out.error.as_deref(), Some("HTTP 400: invalid_payload"));
        assert_eq!(out.attempt_log[0].result, "failed");
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_time_limit_ends_the_loop_at_once() {
        let settings = Settings { max_total: Duration::from_secs(2), ..fast(5) };
        let started = Instant::now();
        let out = run(
            &settings,
            |_| {},
            |_| async {
                Reply {
                    attempt: Attempt::Retry { error: "HTTP 429".into(), retry_after: Some(Duration::from_secs(3600)) },
                    http_status: Some(429),
                }
            },
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(1), "it must not sleep into a dead budget");
        assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 1));
        assert!(out.error.unwrap().contains("time limit"));
        assert_eq!(out.attempt_log[0].http_status, Some(429));
    }

    #[tokio::test]
    async fn accepted_and_delivered_end_the_loop_with_the_response_id() {
        let out = run(
            &fast(5),
            |_| {},
            |n| async move {
                if n == 1 {
                    Reply::retry("timed out")
                } else {
                    Reply { attempt: Attempt::Accepted { response_id: Some("run-7".into()) }, http_status: Some(202) }
                }
            },
        )
        .await;
        assert_eq!(
            (out.status, out.attempts, out.response_id.as_deref()),
            (DeliveryStatus::Accepted, 2, Some("run-7"))
        );
        assert_eq!(out.attempt_log.iter().map(|r| r.result.as_str()).collect::<Vec<_>>(), vec!["retry", "accepted"]);
        assert_eq!(out.error, None);
    }
}
