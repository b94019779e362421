//! Configuration from environment variables (PRODUCT §12). Every variable, its default and its
//! meaning is listed in the README; parsing is strict so a typo fails at start, not at 3 a.m.

use base64::Engine as _;
use std::net::SocketAddr;

/// How scheduled reports are ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerMode {
    /// The server ticks itself every minute.
    Internal,
    /// Only `POST /api/cron/tick` from outside fires schedules.
    External,
}

/// The server's configuration.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `LEPTOS_SITE_ADDR`: where to listen.
    pub site_addr: SocketAddr,
    /// `NARRATE_PUBLIC_URL`: base of links in deliveries.
    pub public_url: String,
    /// `NARRATE_DEMO`: load the demo tenant on an empty database.
    pub demo: bool,
    /// `NARRATE_SECRET_KEY`: 32 bytes that encrypt stored secrets.
    pub secret_key: Option<[u8; 32]>,
    /// `CRON_TOKEN`: the shared secret of `POST /api/cron/tick`.
    pub cron_token: Option<String>,
    /// `NARRATE_SCHEDULER`.
    pub scheduler: SchedulerMode,
    /// `NARRATE_MIN_INTERVAL_MINUTES`.
    pub min_interval_minutes: i64,
    /// `NARRATE_ALLOW_PRIVATE_DESTINATIONS`.
    pub allow_private_destinations: bool,
    /// `NARRATE_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// `NARRATE_AI_PROVIDER`, `NARRATE_AI_MODEL`, `NARRATE_AI_API_KEY`, `NARRATE_AI_BASE_URL`.
    pub ai_provider: Option<String>,
    /// See `ai_provider`.
    pub ai_model: Option<String>,
    /// See `ai_provider`.
    pub ai_api_key: Option<String>,
    /// See `ai_provider`.
    pub ai_base_url: Option<String>,
    /// `NARRATE_AI_TIMEOUT_SECS`: how long an AI provider may take before the built-in narrator answers.
    pub ai_timeout_secs: i64,
    /// `NARRATE_SESSION_HOURS`: how long a sign-in lasts.
    pub session_hours: i64,
    /// `NARRATE_RUN_LEASE_SECS`: how long a running run's lease lasts without a heartbeat.
    pub run_lease_secs: i64,
    /// `NARRATE_ARTIFACT_RETENTION_DAYS`: run artifacts' bytes are pruned after this many days (run
    /// metadata, sizes and checksums stay); `0` keeps them forever. Default 90.
    pub artifact_retention_days: i64,
    /// `NARRATE_SECURE_COOKIES`: force the `Secure` cookie flag (default: when the public URL is https).
    pub secure_cookies: bool,
    /// `NARRATE_MAX_CONCURRENT_RUNS`: runs this process executes at once (default 8); the rest
    /// wait queued, owned and leased, never declared abandoned for waiting.
    pub max_concurrent_runs: usize,
    /// `NARRATE_SHUTDOWN_GRACE_SECS`: on SIGTERM, how long in-flight runs may finish (default 30).
    pub shutdown_grace_secs: i64,
    /// `NARRATE_SQLITE_BUSY_TIMEOUT_MS`: how long a SQLite writer waits for the write lock
    /// (default 15 000) before the write is retried.
    pub sqlite_busy_timeout_ms: u64,
    /// `NARRATE_METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// `NARRATE_SMTP_FROM`: the sender of every report mail (tenants' addresses go to Reply-To).
    pub smtp_from: Option<String>,
    /// `NARRATE_SMTP_ALLOWED_FROM_DOMAINS`: domains tenants may send as (comma-separated).
    pub smtp_allowed_from_domains: Vec<String>,
    /// `NARRATE_TRUSTED_PROXIES`: addresses or CIDR blocks of reverse proxies whose
    /// `X-Forwarded-For` names the client (comma-separated; default none: the TCP peer is the client).
    pub trusted_proxies: Vec<Cidr>,
    /// `NARRATE_WARM_DASHBOARDS`: load every dashboard at every period in the background at
    /// start-up and after each UTC midnight, so first loads are served from the day cache (default on).
    pub warm_dashboards: bool,
}

/// An address block, e.g. `10.0.0.0/8` or `::1/128` (a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: std::net::IpAddr,
    bits: u8,
}

impl Cidr {
    /// Parses `addr` or `addr/bits`.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, b) = s.trim().split_once('/').map(|(a, b)| (a, Some(b))).unwrap_or((s.trim(), None));
        let net: std::net::IpAddr = a.parse().map_err(|_| format!("'{a}' is not an IP address"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match b {
            None => max,
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("'/{b}' is not a prefix length for {net}"))?,
        };
        Ok(Cidr { net, bits })
    }

    /// Whether `ip` is inside the block.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        fn bits(ip: std::net::IpAddr) -> u128 {
            match ip {
                std::net::IpAddr::V4(v) => u128::from(u32::from(v)),
                std::net::IpAddr::V6(v) => u128::from(v),
            }
        }
        if self.net.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let shift = width - u32::from(self.bits);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        bits(self.net) & mask == bits(ip) & mask
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed, not even in debug output.
        f.debug_struct("Config")
            .field("site_addr", &self.site_addr)
            .field("public_url", &self.public_url)
            .field("demo", &self.demo)
            .field("scheduler", &self.scheduler)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let site_addr: SocketAddr = get("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| format!("LEPTOS_SITE_ADDR: {e}"))?;
        let public_url = get("NARRATE_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_string();
        let secret_key = match get("NARRATE_SECRET_KEY") {
            None => None,
            Some(v) => Some(parse_key(&v)?),
        };
        let scheduler = match get("NARRATE_SCHEDULER").as_deref() {
            None | Some("internal") => SchedulerMode::Internal,
            Some("external") => SchedulerMode::External,
            Some(o) => return Err(format!("NARRATE_SCHEDULER: '{o}' is not 'internal' or 'external'")),
        };
        let secure_default = public_url.starts_with("https://");
        Config {
            database_url: get("DATABASE_URL").unwrap_or_else(|| "sqlite://./data/narrate.db".into()),
            site_addr,
            public_url,
            demo: flag(get("NARRATE_DEMO"), "NARRATE_DEMO")?.unwrap_or(false),
            secret_key,
            cron_token: get("CRON_TOKEN"),
            scheduler,
            min_interval_minutes: number(get("NARRATE_MIN_INTERVAL_MINUTES"), "NARRATE_MIN_INTERVAL_MINUTES", 15)?,
            allow_private_destinations: flag(
                get("NARRATE_ALLOW_PRIVATE_DESTINATIONS"),
                "NARRATE_ALLOW_PRIVATE_DESTINATIONS",
            )?
            .unwrap_or(false),
            smtp_url: get("NARRATE_SMTP_URL"),
            ai_provider: get("NARRATE_AI_PROVIDER"),
            ai_model: get("NARRATE_AI_MODEL"),
            ai_api_key: get("NARRATE_AI_API_KEY"),
            ai_base_url: get("NARRATE_AI_BASE_URL"),
            ai_timeout_secs: number(get("NARRATE_AI_TIMEOUT_SECS"), "NARRATE_AI_TIMEOUT_SECS", 30)?,
            session_hours: number(get("NARRATE_SESSION_HOURS"), "NARRATE_SESSION_HOURS", 12)?,
            run_lease_secs: number(get("NARRATE_RUN_LEASE_SECS"), "NARRATE_RUN_LEASE_SECS", 300)?,
            artifact_retention_days: whole(
                get("NARRATE_ARTIFACT_RETENTION_DAYS"),
                "NARRATE_ARTIFACT_RETENTION_DAYS",
                90,
            )?,
            secure_cookies: flag(get("NARRATE_SECURE_COOKIES"), "NARRATE_SECURE_COOKIES")?.unwrap_or(secure_default),
            max_concurrent_runs: number(get("NARRATE_MAX_CONCURRENT_RUNS"), "NARRATE_MAX_CONCURRENT_RUNS", 8)?.min(1024)
                as usize,
            shutdown_grace_secs: whole(get("NARRATE_SHUTDOWN_GRACE_SECS"), "NARRATE_SHUTDOWN_GRACE_SECS", 30)?,
            sqlite_busy_timeout_ms: number(
                get("NARRATE_SQLITE_BUSY_TIMEOUT_MS"),
                "NARRATE_SQLITE_BUSY_TIMEOUT_MS",
                crate::engine::db::DEFAULT_SQLITE_BUSY_TIMEOUT_MS as i64,
            )? as u64,
            metrics_token: get("NARRATE_METRICS_TOKEN"),
            smtp_from: get("NARRATE_SMTP_FROM"),
            smtp_allowed_from_domains: get("NARRATE_SMTP_ALLOWED_FROM_DOMAINS")
                .map(|v| v.split(',').map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect())
                .unwrap_or_default(),
            trusted_proxies: match get("NARRATE_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(v) => v
                    .split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(Cidr::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("NARRATE_TRUSTED_PROXIES: {e}"))?,
            },
            warm_dashboards: flag(get("NARRATE_WARM_DASHBOARDS"), "NARRATE_WARM_DASHBOARDS")?.unwrap_or(true),
        }
        .checked()
    }

    /// The longest a run may take, every stage at its limit: the AI provider's timeout, rendering,
    /// and a delivery's whole retry budget (destinations are delivered concurrently), plus a
    /// margin. A run past it is stopped and finished as failed, so no run is "running" forever.
    pub fn run_budget(&self) -> std::time::Duration {
        let delivery = crate::engine::delivery::Settings::default().max_total;
        std::time::Duration::from_secs(self.ai_timeout_secs as u64 + RENDER_BUDGET_SECS + 30) + delivery
    }

    /// How often the process renews the leases of the runs it owns: a third of the lease, at most
    /// every 10 s, so two renewals can fail before a live run's lease lapses.
    pub fn lease_renewal(&self) -> std::time::Duration {
        std::time::Duration::from_millis((self.run_lease_secs as u64 * 1000 / 3).clamp(200, 10_000))
    }

    /// How close to its end a lease must be for a renewal round to rewrite it (ms). A round runs
    /// every [`Config::lease_renewal`], but a lease with more than half its length plus one round
    /// still ahead is left alone: each row is rewritten about once per half lease instead of every
    /// round, and a live run still keeps at least half its lease in hand. (A burst holds tens of
    /// thousands of queued runs per process; rewriting every one of them every 10 s was 40 % of
    /// PostgreSQL's time in the 100 000-schedule burst.) Leases shorter than four rounds are
    /// renewed every round, as before.
    pub fn lease_renew_within_ms(&self) -> i64 {
        let (lease, round) = (self.run_lease_secs * 1000, self.lease_renewal().as_millis() as i64);
        if lease >= 4 * round {
            lease / 2 + round
        } else {
            lease + round
        }
    }

    /// Refuses settings that contradict each other: the run lease must outlast the renewal gap
    /// with room for two missed renewals, or live runs would be declared abandoned.
    fn checked(self) -> Result<Self, String> {
        if self.run_lease_secs < MIN_LEASE_SECS {
            return Err(format!(
                "NARRATE_RUN_LEASE_SECS: {} s is too short; a lease must cover at least three renewals ({MIN_LEASE_SECS} s or more)",
                self.run_lease_secs
            ));
        }
        Ok(self)
    }
}

/// What rendering every format of one report may take (typst runs in a blocking task).
pub const RENDER_BUDGET_SECS: u64 = 60;
/// The shortest accepted run lease.
pub const MIN_LEASE_SECS: i64 = 2;

fn flag(v: Option<String>, name: &str) -> Result<Option<bool>, String> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(o) => Err(format!("{name}: '{o}' is not a yes/no value (1/0, true/false)")),
    }
}

/// A whole number ≥ 0 (0 switches the setting off).
fn whole(v: Option<String>, name: &str, default: i64) -> Result<i64, String> {
    match v {
        None => Ok(default),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(format!("{name}: '{s}' is not a whole number of days (0 keeps artifacts forever)")),
        },
    }
}

fn number(v: Option<String>, name: &str, default: i64) -> Result<i64, String> {
    match v {
        None => Ok(default),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{name}: '{s}' is not a positive whole number")),
        },
    }
}

fn parse_key(v: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .map_err(|_| "NARRATE_SECRET_KEY: not valid base64".to_string())?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("NARRATE_SECRET_KEY: decodes to {} bytes, expected 32", b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_readme() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://./data/narrate.db");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.scheduler, SchedulerMode::Internal);
        assert_eq!(c.min_interval_minutes, 15);
        assert!(!c.demo && !c.allow_private_destinations && !c.secure_cookies);
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert!(cfg(&[("NARRATE_SCHEDULER", "cron")]).unwrap_err().contains("NARRATE_SCHEDULER"));
        assert!(cfg(&[("NARRATE_SECRET_KEY", "c2hvcnQ=")]).unwrap_err().contains("32"));
        assert!(cfg(&[("NARRATE_DEMO", "maybe")]).unwrap_err().contains("NARRATE_DEMO"));
    }

    #[test]
    fn trusted_proxies_are_address_blocks() {
        let c = cfg(&[("NARRATE_TRUSTED_PROXIES", "10.0.0.0/8, ::1, 192.168.1.5")]).unwrap();
        let inside = |s: &str| c.trusted_proxies.iter().any(|p| p.contains(s.parse().unwrap()));
        assert!(inside("10.1.2.3") && inside("::1") && inside("192.168.1.5"));
        assert!(!inside("11.0.0.1") && !inside("192.168.1.6") && !inside("::2"));
        assert!(cfg(&[("NARRATE_TRUSTED_PROXIES", "10.0.0.0/33")]).unwrap_err().contains("NARRATE_TRUSTED_PROXIES"));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let c = cfg(&[("CRON_TOKEN", "tok-very-secret"), ("NARRATE_AI_API_KEY", "sk-hidden")]).unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("tok-very-secret") && !s.contains("sk-hidden"));
    }
}
