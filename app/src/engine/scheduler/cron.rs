//! Cron schedules (PRODUCT §7): a parsed [`CronSpec`] of the five standard fields (names,
//! lists, ranges, steps; day-of-week 0–7 with 0 and 7 = Sunday; day-of-month and day-of-week
//! both restricted = either matches, as in Vixie cron), evaluated in an IANA time zone. A local
//! time skipped by a DST change fires at the first valid instant after it; a repeated local time
//! fires once (its first occurrence).
//!
//! We evaluate cron ourselves rather than with the `cron` crate the original design named: that
//! crate follows Quartz syntax (a seconds field, Sunday = 1, day-of-month AND day-of-week), not the
//! 5-field POSIX/Vixie rules Narrate promises. `cron_crosscheck` checks this evaluator against
//! `croner` in POSIX mode over thousands of generated expressions.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A parse error naming the faulty field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// `minute`, `hour`, `day-of-month`, `month`, `day-of-week` or `expression`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CronError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} field: {}", self.field, self.message)
    }
}

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSpec {
    source: String,
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Vec<u32>,
    months: Vec<u32>,
    weekdays: Vec<u32>,
    dom_star: bool,
    dow_star: bool,
}

const FIELDS: [(&str, u32, u32); 5] =
    [("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7)];
const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(field: usize, s: &str) -> Result<u32, String> {
    let up = s.to_ascii_uppercase();
    if field == 3 {
        if let Some(i) = MONTHS.iter().position(|m| *m == up) {
            return Ok(i as u32 + 1);
        }
    }
    if field == 4 {
        if let Some(i) = DAYS.iter().position(|d| *d == up) {
            return Ok(i as u32);
        }
    }
    let (name, lo, hi) = FIELDS[field];
    let v: u32 = s.parse().map_err(|_| format!("'{s}' is not a number or a name"))?;
    if v < lo || v > hi {
        return Err(format!("{v} is out of range {lo}–{hi} for {name}"));
    }
    Ok(v)
}

fn parse_field(field: usize, text: &str) -> Result<Vec<u32>, String> {
    let (_, lo, hi) = FIELDS[field];
    let mut out = Vec::new();
    for part in text.split(',') {
        if part.is_empty() {
            return Err("an empty list item".into());
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("step '{s}' is not a number"))?;
                if step == 0 {
                    return Err("a step of 0 never advances".into());
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(field, a)?, value(field, b)?)
        } else {
            let v = value(field, range)?;
            (v, if part.contains('/') { hi } else { v })
        };
        if a > b {
            return Err(format!("range {a}-{b} runs backwards"));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    if field == 4 {
        out = out.into_iter().map(|d| d % 7).collect();
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

impl CronSpec {
    /// Parses a 5-field expression.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let parts: Vec<&str> = expr.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(CronError {
                field: "expression",
                message: format!("expected 5 fields (minute hour day-of-month month day-of-week), got {}", parts.len()),
            });
        }
        let mut sets = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            sets.push(parse_field(i, p).map_err(|message| CronError { field: FIELDS[i].0, message })?);
        }
        Ok(CronSpec {
            source: parts.join(" "),
            minutes: sets[0].clone(),
            hours: sets[1].clone(),
            days: sets[2].clone(),
            months: sets[3].clone(),
            weekdays: sets[4].clone(),
            // As in Vixie cron, a field that starts with `*` (also `*/2`) counts as unrestricted.
            dom_star: parts[2].starts_with('*'),
            dow_star: parts[4].starts_with('*'),
        })
    }

    /// The normalised expression.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        if !self.months.contains(&d.month()) {
            return false;
        }
        let dom = self.days.contains(&d.day());
        let dow = self.weekdays.contains(&d.weekday().num_days_from_sunday());
        // Vixie's rule: when either day field starts with `*` both must match (a plain `*` matches
        // every day, so the other field decides; `*/7` still steps); when both are restricted,
        // either may match.
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first firing strictly after `after`, in zone `tz`; None if it never fires (searched
    /// five years ahead).
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let start_local = after.with_timezone(&tz).date_naive() - Duration::days(1);
        for offset in 0..(366 * 5) {
            let date = start_local + Duration::days(offset);
            if !self.day_matches(date) {
                continue;
            }
            for &h in &self.hours {
                for &m in &self.minutes {
                    let local = date.and_time(NaiveTime::from_hms_opt(h, m, 0)?);
                    if let Some(t) = resolve_local(tz, local) {
                        if t > after {
                            return Some(t);
                        }
                    }
                }
            }
        }
        None
    }

    /// The next `n` firings after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, tz: Tz, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut t = after;
        while out.len() < n {
            match self.next_after(t, tz) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// The shortest gap between consecutive firings over the next 50 (None if < 2 firings).
    pub fn min_interval(&self, after: DateTime<Utc>, tz: Tz) -> Option<Duration> {
        let v = self.upcoming(after, tz, 50);
        v.windows(2).map(|w| w[1] - w[0]).min()
    }

    /// Words for people: "Every Monday at 08:00 Europe/Paris".
    pub fn describe(&self, tz: &str) -> String {
        let all = |v: &Vec<u32>, n: usize| v.len() == n;
        let time = if self.minutes.len() == 1 && self.hours.len() == 1 {
            Some(format!("at {:02}:{:02}", self.hours[0], self.minutes[0]))
        } else {
            None
        };
        let names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
        let when = match (all(&self.days, 31), all(&self.weekdays, 7), all(&self.months, 12)) {
            (true, true, true) => "Every day".to_string(),
            (true, false, true) if self.weekdays == [1, 2, 3, 4, 5] => "Every weekday".to_string(),
            (true, false, true) => {
                format!("Every {}", self.weekdays.iter().map(|d| names[*d as usize]).collect::<Vec<_>>().join(", "))
            }
            (false, true, true) if self.days.len() == 1 => format!("Every month on day {}", self.days[0]),
            _ => return format!("Cron \"{}\" ({tz})", self.source),
        };
        match time {
            Some(t) => format!("{when} {t} {tz}"),
            None if self.hours.len() == 24 && self.minutes.len() > 1 => {
                let step = self.minutes.get(1).map(|m| m - self.minutes[0]).unwrap_or(60);
                format!("{when}, every {step} minutes ({tz})")
            }
            None => format!("Cron \"{}\" ({tz})", self.source),
        }
    }
}

/// The instant of a local time: the earlier one when repeated; the first valid instant after it
/// when skipped by a DST gap.
fn resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            let mut probe = local;
            for _ in 0..(4 * 60) {
                probe += Duration::minutes(1);
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) = tz.from_local_datetime(&probe) {
                    return Some(t.with_timezone(&Utc));
                }
            }
            None
        }
    }
}

/// Parses an IANA zone name.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| format!("'{name}' is not an IANA time zone name (e.g. Europe/Paris)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, tz: &str, after: &str) -> String {
        CronSpec::parse(expr).unwrap().next_after(utc(after), parse_zone(tz).unwrap()).unwrap().to_rfc3339()
    }

    #[test]
    fn presets_fire_at_hand_checked_instants() {
        // Monday 2026-11-30 08:00 in Paris is 07:00 UTC (CET, UTC+1).
        assert_eq!(next("0 8 * * 1", "Europe/Paris", "2026-11-29T12:00:00Z"), "2026-11-30T07:00:00+00:00");
        assert_eq!(next("0 8 * * *", "America/New_York", "2026-11-30T13:00:00Z"), "2026-12-01T13:00:00+00:00");
        assert_eq!(next("0 8 1 * *", "UTC", "2026-11-30T00:00:00Z"), "2026-12-01T08:00:00+00:00");
        assert_eq!(next("*/15 * * * *", "UTC", "2026-11-30T10:07:00Z"), "2026-11-30T10:15:00+00:00");
    }

    #[test]
    fn seven_and_zero_are_both_sunday_and_names_work() {
        assert_eq!(next("0 8 * * 7", "UTC", "2026-11-30T00:00:00Z"), "2026-12-06T08:00:00+00:00");
        assert_eq!(next("0 8 * * 0", "UTC", "2026-11-30T00:00:00Z"), "2026-12-06T08:00:00+00:00");
        assert_eq!(next("0 8 * DEC SUN", "UTC", "2026-11-30T00:00:00Z"), "2026-12-06T08:00:00+00:00");
    }

    #[test]
    fn day_of_month_or_day_of_week_matches_as_in_vixie_cron() {
        // The 15th (a Tuesday) or any Friday, whichever comes first after 2026-12-01.
        assert_eq!(next("0 9 15 * 5", "UTC", "2026-12-01T00:00:00Z"), "2026-12-04T09:00:00+00:00");
        assert_eq!(next("0 9 15 * 5", "UTC", "2026-12-12T00:00:00Z"), "2026-12-15T09:00:00+00:00");
    }

    #[test]
    fn a_stepped_day_field_steps_and_is_not_every_day() {
        // Found by the cross-check with croner: `*/7` days are the 1st, 8th, 15th, 22nd and 29th.
        assert_eq!(next("0 9 */7 * *", "UTC", "2026-12-01T10:00:00Z"), "2026-12-08T09:00:00+00:00");
        assert_eq!(next("0 9 */7 * *", "UTC", "2026-12-29T10:00:00Z"), "2027-01-01T09:00:00+00:00");
        // With the other field restricted, a field starting with `*` still means "both must match"
        // (Vixie): odd days that are Mondays.
        assert_eq!(next("0 9 */2 * 1", "UTC", "2026-11-30T10:00:00Z"), "2026-12-07T09:00:00+00:00");
        assert_eq!(CronSpec::parse("0 9 */7 * *").unwrap().describe("UTC"), "Cron \"0 9 */7 * *\" (UTC)");
    }

    #[test]
    fn a_time_skipped_by_dst_fires_at_the_first_valid_instant_after_it() {
        // Paris springs forward on 2027-03-28: 02:00 → 03:00 local (01:00 UTC).
        assert_eq!(next("30 2 * * *", "Europe/Paris", "2027-03-27T12:00:00Z"), "2027-03-28T01:00:00+00:00");
        // New York springs forward on 2027-03-14 at 02:00 → 03:00 (07:00 UTC).
        assert_eq!(next("30 2 * * *", "America/New_York", "2027-03-13T12:00:00Z"), "2027-03-14T07:00:00+00:00");
    }

    #[test]
    fn a_repeated_time_fires_once() {
        // Paris falls back on 2026-10-25: 02:30 local happens at 00:30 and 01:30 UTC.
        let spec = CronSpec::parse("30 2 * * *").unwrap();
        let v = spec.upcoming(utc("2026-10-24T12:00:00Z"), parse_zone("Europe/Paris").unwrap(), 2);
        assert_eq!(v[0].to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(v[1].to_rfc3339(), "2026-10-26T01:30:00+00:00");
        // New York falls back on 2026-11-01 at 02:00 → 01:00: 01:30 happens twice, fires once.
        let spec = CronSpec::parse("30 1 * * *").unwrap();
        let v = spec.upcoming(utc("2026-10-31T12:00:00Z"), parse_zone("America/New_York").unwrap(), 2);
        assert_eq!(v[0].to_rfc3339(), "2026-11-01T05:30:00+00:00");
        assert_eq!(v[1].to_rfc3339(), "2026-11-02T06:30:00+00:00");
    }

    #[test]
    fn february_31st_never_fires() {
        let spec = CronSpec::parse("0 0 31 2 *").unwrap();
        assert_eq!(spec.next_after(utc("2026-11-30T00:00:00Z"), chrono_tz::UTC), None);
    }

    #[test]
    fn errors_name_the_faulty_field() {
        let e = |s| CronSpec::parse(s).unwrap_err();
        assert_eq!(e("61 * * * *").field, "minute");
        assert!(e("61 * * * *").to_string().contains("out of range 0–59"));
        assert_eq!(e("0 24 * * *").field, "hour");
        assert_eq!(e("0 0 0 * *").field, "day-of-month");
        assert_eq!(e("0 0 * 13 *").field, "month");
        assert_eq!(e("0 0 * * FUNDAY").field, "day-of-week");
        assert_eq!(e("*/0 * * * *").field, "minute");
        assert_eq!(e("0 8 * *").field, "expression");
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn descriptions_read_like_sentences() {
        assert_eq!(
            CronSpec::parse("0 8 * * 1").unwrap().describe("Europe/Paris"),
            "Every Monday at 08:00 Europe/Paris"
        );
        assert_eq!(CronSpec::parse("0 8 * * *").unwrap().describe("UTC"), "Every day at 08:00 UTC");
        assert_eq!(CronSpec::parse("0 8 1 * *").unwrap().describe("UTC"), "Every month on day 1 at 08:00 UTC");
        assert_eq!(CronSpec::parse("*/15 * * * *").unwrap().describe("UTC"), "Every day, every 15 minutes (UTC)");
        assert_eq!(CronSpec::parse("0 9 * * 1-5").unwrap().describe("UTC"), "Every weekday at 09:00 UTC");
    }

    #[test]
    fn min_interval_sees_the_shortest_gap() {
        let spec = CronSpec::parse("*/5 * * * *").unwrap();
        assert_eq!(spec.min_interval(utc("2026-11-30T00:00:00Z"), chrono_tz::UTC), Some(Duration::minutes(5)));
    }
}
