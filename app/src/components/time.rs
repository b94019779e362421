//! Instants as people read them: "Mon 7 Dec, 08:00 CET · in 6 days", in the reader's browser zone
//! (or a schedule's own zone, named), with the exact UTC value on hover.
//!
//! The server does not know the reader's zone, so the first paint (server render and hydration
//! alike) shows the instant in UTC — the same text on both sides, so hydration never disagrees —
//! and once the page is interactive every instant switches to the browser's zone with a relative
//! hint. Formatting in a named zone uses the browser's own time-zone database (`Intl`), so the
//! wasm bundle carries none.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// Whether the page has hydrated: instants switch from their UTC first paint to the reader's zone.
#[derive(Clone, Copy)]
pub struct Hydrated(pub RwSignal<bool>);

/// Provides [`Hydrated`] and flips it once the page is interactive (effects run only in the
/// browser, after hydration).
pub fn provide_hydrated() {
    let flag = RwSignal::new(false);
    provide_context(Hydrated(flag));
    Effect::new(move |_| flag.set(true));
}

/// The instant in UTC, as the first paint shows it: "Mon 7 Dec 2026, 07:00 UTC".
pub fn utc_text(at: &str) -> String {
    match DateTime::parse_from_rfc3339(at) {
        Ok(t) => t.with_timezone(&Utc).format("%a %-d %b %Y, %H:%M UTC").to_string(),
        Err(_) => at.to_string(),
    }
}

/// "in 6 days", "3 hours ago", "in 5 min", "just now" between `at` and `now` (both ms).
pub fn relative(at_ms: i64, now_ms: i64) -> String {
    let d = (at_ms - now_ms) / 1000;
    let (n, unit) = match d.abs() {
        0..=44 => return "just now".to_string(),
        45..=3_599 => ((d.abs() + 30) / 60, "min"),
        3_600..=86_399 => ((d.abs() + 1_800) / 3_600, "hour"),
        _ => ((d.abs() + 43_200) / 86_400, "day"),
    };
    let unit = if n == 1 || unit == "min" { unit.to_string() } else { format!("{unit}s") };
    if d > 0 {
        format!("in {n} {unit}")
    } else {
        format!("{n} {unit} ago")
    }
}

/// The instant in a zone (the browser's when `zone` is None), e.g. "Mon 7 Dec, 08:00 CET".
#[cfg(feature = "hydrate")]
fn zoned_text(at: &str, zone: Option<&str>) -> Option<String> {
    use wasm_bindgen::JsValue;
    let date = js_sys::Date::new(&JsValue::from_str(at));
    if date.get_time().is_nan() {
        return None;
    }
    let options = |fields: &[(&str, &str)]| {
        let o = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        if let Some(z) = zone {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str("timeZone"), &JsValue::from_str(z));
        }
        o
    };
    let format = |locale: &str, o: &js_sys::Object| -> Option<js_sys::Intl::DateTimeFormat> {
        // An unknown zone makes the browser throw: the caller falls back to the UTC text.
        let f = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::of1(&JsValue::from_str(locale)), o);
        js_sys::Reflect::get(&f.resolved_options(), &JsValue::from_str("timeZone")).ok()?.as_string()?;
        Some(f)
    };
    let this_year = js_sys::Date::new_0().get_full_year() == date.get_full_year();
    let mut fields = vec![
        ("weekday", "short"),
        ("day", "numeric"),
        ("month", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("hourCycle", "h23"),
    ];
    if !this_year {
        fields.push(("year", "numeric"));
    }
    let mut when = format("en-GB", &options(&fields))?.format().call1(&JsValue::NULL, &date).ok()?.as_string()?;
    // With a year, en-GB writes "Mon, 4 Jan 2027, 08:00"; without, "Mon 7 Dec, 08:00": one style.
    if when.get(3..5) == Some(", ") {
        when.replace_range(3..4, "");
    }
    Some(format!("{when} {}", zone_name(&date, &|l| format(l, &options(&[("timeZoneName", "short")])))))
}

/// The zone's short name at that instant: "CET", "EST"; British English knows Europe's names and
/// American English America's, and where neither has one the offset ("GMT+5:30") is the name.
#[cfg(feature = "hydrate")]
fn zone_name(date: &js_sys::Date, format: &dyn Fn(&str) -> Option<js_sys::Intl::DateTimeFormat>) -> String {
    use wasm_bindgen::JsCast;
    let name_in = |locale: &str| -> Option<String> {
        let parts = format(locale)?.format_to_parts(date);
        parts.iter().find_map(|p| {
            let p = p.dyn_into::<js_sys::Object>().ok()?;
            let kind = js_sys::Reflect::get(&p, &"type".into()).ok()?.as_string()?;
            (kind == "timeZoneName").then(|| js_sys::Reflect::get(&p, &"value".into()).ok()?.as_string()).flatten()
        })
    };
    let gb = name_in("en-GB");
    let named = |n: &Option<String>| n.as_deref().is_some_and(|n| !n.starts_with("GMT") && !n.starts_with("UTC"));
    if named(&gb) {
        return gb.unwrap_or_default();
    }
    let us = name_in("en-US");
    if named(&us) {
        return us.unwrap_or_default();
    }
    gb.or(us).unwrap_or_else(|| "UTC".to_string())
}

/// The reader's zone, e.g. `America/New_York` ("UTC" before hydration or when unknown).
pub fn reader_zone() -> String {
    #[cfg(feature = "hydrate")]
    {
        let f = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        let opts = f.resolved_options();
        if let Some(z) =
            js_sys::Reflect::get(&opts, &wasm_bindgen::JsValue::from_str("timeZone")).ok().and_then(|v| v.as_string())
        {
            return z;
        }
    }
    "UTC".to_string()
}

/// What an instant shows once hydrated: zoned text and, unless `bare`, a relative hint.
fn live_text(at: &str, zone: Option<&str>, bare: bool) -> String {
    #[cfg(feature = "hydrate")]
    {
        if let Some(text) = zoned_text(at, zone) {
            let at_ms = DateTime::parse_from_rfc3339(at).map(|t| t.timestamp_millis()).ok();
            return match (bare, at_ms) {
                (false, Some(ms)) => format!("{text} · {}", relative(ms, js_sys::Date::now() as i64)),
                _ => text,
            };
        }
    }
    let _ = (zone, bare);
    utc_text(at)
}

/// An instant (RFC 3339). `zone`: show it in that IANA zone (a schedule's) instead of the reader's;
/// `bare`: no relative hint (lists of many instants); `empty`: the text when there is none.
#[component]
pub fn When(
    #[prop(into)] at: Option<String>,
    #[prop(optional, into)] zone: Option<String>,
    #[prop(optional)] bare: bool,
    #[prop(optional, into)] empty: Option<String>,
) -> impl IntoView {
    let hydrated = use_context::<Hydrated>().map(|h| h.0);
    match at {
        None => view! { <span class="muted">{empty.unwrap_or_else(|| "—".to_string())}</span> }.into_any(),
        Some(at) => {
            let title = format!("{} (UTC)", at);
            let datetime = at.clone();
            let text = move || {
                if hydrated.is_some_and(|h| h.get()) {
                    live_text(&at, zone.as_deref(), bare)
                } else {
                    utc_text(&at)
                }
            };
            view! { <time datetime=datetime title=title>{text}</time> }.into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_paint_is_utc_and_names_it() {
        assert_eq!(utc_text("2026-12-07T07:00:00Z"), "Mon 7 Dec 2026, 07:00 UTC");
        assert_eq!(utc_text("2026-12-07T08:00:00+01:00"), "Mon 7 Dec 2026, 07:00 UTC");
        assert_eq!(utc_text("not a time"), "not a time");
    }

    #[test]
    fn relative_hints_round_to_the_unit_a_reader_expects() {
        let now = 1_800_000_000_000;
        assert_eq!(relative(now + 10_000, now), "just now");
        assert_eq!(relative(now + 5 * 60_000, now), "in 5 min");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 hours ago");
        assert_eq!(relative(now + 3_600_000, now), "in 1 hour");
        assert_eq!(relative(now + 6 * 86_400_000 - 60_000, now), "in 6 days");
        assert_eq!(relative(now - 86_400_000, now), "1 day ago");
    }
}
