//! Process-wide counters exposed at `/metrics` in the Prometheus text format: deliveries by kind
//! and outcome, delivery attempts, and render time by format.

use std::collections::BTreeMap;
use std::sync::Mutex;

static COUNTERS: Mutex<BTreeMap<String, f64>> = Mutex::new(BTreeMap::new());

fn add(key: String, v: f64) {
    *COUNTERS.lock().expect("metrics lock").entry(key).or_default() += v;
}

/// Counts a finished delivery and its attempts.
pub fn delivery(kind: &str, outcome: &str, attempts: u32) {
    add(format!("narrate_deliveries_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}"), 1.0);
    add(format!("narrate_delivery_attempts_total{{kind=\"{kind}\"}}"), f64::from(attempts));
}

/// Records one render's duration.
pub fn render(format: &str, seconds: f64) {
    add(format!("narrate_render_seconds_sum{{format=\"{format}\"}}"), seconds);
    add(format!("narrate_render_seconds_count{{format=\"{format}\"}}"), 1.0);
}

/// The counters in the Prometheus text format.
pub fn text() -> String {
    let map = COUNTERS.lock().expect("metrics lock");
    let mut out = String::new();
    let mut last = String::new();
    for (k, v) in map.iter() {
        let name = k.split('{').next().unwrap_or_default().to_string();
        if name != last {
            let kind = if name.ends_with("_total") { "counter" } else { "untyped" };
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            last = name;
        }
        out.push_str(&format!("{k} {v}\n"));
    }
    out
}

/// Counts a run this process finished, by status (what `/metrics` reports instead of scanning the
/// runs table).
pub fn run_finished(status: &str) {
    add(format!("narrate_runs_finished_total{{status=\"{status}\"}}"), 1.0);
}

/// Records the lag between a slot and its firing.
pub fn tick_lag(ms: i64) {
    add("narrate_tick_lag_seconds_sum".into(), ms as f64 / 1000.0);
    add("narrate_tick_lag_seconds_count".into(), 1.0);
    add("narrate_schedule_claims_total".into(), 1.0);
}
