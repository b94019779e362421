//! Text helpers shared by the adapters: cutting by characters, Slack and HTML escaping, sizes in
//! words, response snippets, secret redaction and the digest (summary and bullet items) that every
//! human-facing message is built from.

use super::DeliveryInput;

/// Secrets shorter than this are not redacted (they would mangle ordinary text such as "HTTP 401").
const MIN_SECRET_CHARS: usize = 6;

/// The first `max` characters of `s` (all of it when shorter).
pub(super) fn prefix(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `s` cut to at most `max` characters, ending with "…" when cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    format!("{}…", prefix(s, max.saturating_sub(1)))
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub(super) fn escape_mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Escapes text for HTML element content and attribute values.
pub(super) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Drops a character entity cut in half at the end of `s` (`"a &am"` → `"a "`).
pub(super) fn drop_partial_entity(s: &str) -> &str {
    match s.rfind('&') {
        Some(i) if !s[i..].contains(';') => &s[..i],
        _ => s,
    }
}

/// A byte count in words: "10 MB", "2.5 MB", "300 KB", "120 bytes".
pub(super) fn human_size(bytes: usize) -> String {
    const KB: usize = 1024;
    const MB: usize = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The start of a response body on one line: 1 000 characters, so that secrets are redacted whole
/// before the error is cut to its final length.
pub(super) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(prefix_bytes(body, 8 * 1024));
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&one_line, 1000)
}

/// At most the first `max` bytes.
fn prefix_bytes(b: &[u8], max: usize) -> &[u8] {
    &b[..b.len().min(max)]
}

/// `text` with every secret (of at least six characters) replaced by `[redacted]`.
pub(super) fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| s.chars().count() >= MIN_SECRET_CHARS).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in sorted {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "[redacted]");
        }
    }
    out
}

/// A URL, its path and its query as secrets (Slack and Teams carry their token there), and the
/// pieces a receiver may quote on their own: every query value, and every path segment that looks
/// like a token (8+ characters with a digit, or 16+ characters) — Slack's last segment, Teams' ids.
/// Plain words such as `services` or `hooks` stay readable in error messages.
pub(super) fn url_secrets(raw: &str, out: &mut Vec<String>) {
    out.push(raw.to_string());
    if let Ok(u) = url::Url::parse(raw) {
        out.push(u.as_str().to_string());
        out.push(u.path().to_string());
        out.extend(u.query().map(str::to_string));
        out.extend(u.query_pairs().map(|(_, v)| v.into_owned()));
        for seg in u.path_segments().into_iter().flatten() {
            let n = seg.chars().count();
            if n >= 16 || (n >= 8 && seg.chars().any(|c| c.is_ascii_digit())) {
                out.push(seg.to_string());
                out.push(percent_decode(seg));
            }
        }
    }
}

/// The SMTP URL and its credentials (raw and percent-decoded) as secrets.
pub(super) fn smtp_secrets(raw: &str, out: &mut Vec<String>) {
    out.push(raw.to_string());
    if let Ok(u) = url::Url::parse(raw) {
        for part in [u.password().unwrap_or(""), u.username()] {
            out.push(part.to_string());
            out.push(percent_decode(part));
        }
    }
}

/// Decodes `%XX` escapes (as in URL user names and passwords); invalid escapes stay as they are.
pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a human-facing message says: a summary and a titled list of bullet items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Digest {
    /// The executive summary, or a sentence saying the report is ready.
    pub summary: String,
    /// "Key takeaways", or "Sections" when there is no narrative.
    pub items_title: &'static str,
    /// The takeaways, or one line per section with its row count.
    pub items: Vec<String>,
}

/// The digest of a run: the narrative when there is one, else the sections.
pub(super) fn digest(input: &DeliveryInput) -> Digest {
    match &input.narrative {
        Some(n) => Digest {
            summary: n.executive_summary.trim().to_string(),
            items_title: "Key takeaways",
            items: n.key_takeaways.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
        },
        None => Digest {
            summary: format!(
                "The report is ready with {} section{}.",
                input.sections.len(),
                plural(input.sections.len())
            ),
            items_title: "Sections",
            items: input
                .sections
                .iter()
                .map(|s| format!("{}: {} row{}", s.title, s.row_count, plural(s.row_count)))
                .collect(),
        },
    }
}

/// "s" unless `n` is 1.
pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The date part (`YYYY-MM-DD`) of an RFC 3339 instant, or its first ten characters.
pub(super) fn date_of(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| prefix(rfc3339, 10).to_string())
}

/// The line under every title: period, generation time and, for tests, a note.
pub(super) fn subtitle(input: &DeliveryInput) -> String {
    let test = if input.is_test { " · Test message from Narrate" } else { "" };
    format!("{} · Generated {}{test}", input.period, input.generated_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_ends_with_an_ellipsis() {
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("short", 5), "short");
        assert_eq!(prefix("añb", 2), "añ");
    }

    #[test]
    fn a_half_cut_entity_is_dropped() {
        assert_eq!(drop_partial_entity("a &am"), "a ");
        assert_eq!(drop_partial_entity("a &amp; b"), "a &amp; b");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(5 * 1024 * 1024 / 2), "2.5 MB");
        assert_eq!(human_size(300 * 1024), "300 KB");
        assert_eq!(human_size(120), "120 bytes");
    }

    #[test]
    fn redaction_replaces_long_secrets_and_leaves_short_ones() {
        let secrets = vec!["hunter2-very-secret".to_string(), "401".to_string()];
        assert_eq!(redact("HTTP 401: bad hunter2-very-secret", &secrets), "HTTP 401: bad [redacted]");
    }

    #[test]
    fn a_token_quoted_alone_from_a_webhook_url_is_redacted_but_plain_words_are_not() {
        let mut secrets = Vec::new();
        url_secrets(
            "https://hooks.slack.com/services/T01ABCD2E/B02FGH3IJ/xoxbSecretToken42?sig=q7sig&x=1",
            &mut secrets,
        );
        let echoed = "HTTP 403: invalid_token xoxbSecretToken42 for T01ABCD2E (sig q7sig) at services";
        assert_eq!(
            redact(echoed, &secrets),
            "HTTP 403: invalid_token [redacted] for [redacted] (sig q7sig) at services"
        );
        let mut secrets = Vec::new();
        url_secrets("https://example.com/hook?token=abcdef123", &mut secrets);
        assert_eq!(redact("refused abcdef123 at hook", &secrets), "refused [redacted] at hook");
    }

    #[test]
    fn percent_escapes_decode_and_invalid_ones_stay() {
        assert_eq!(percent_decode("p%40ss%2Fw%zz"), "p@ss/w%zz");
    }

    #[test]
    fn dates_come_from_rfc3339_or_the_first_ten_characters() {
        assert_eq!(date_of("2026-11-30T08:00:00Z"), "2026-11-30");
        assert_eq!(date_of("2026-11-30 garbage"), "2026-11-30");
    }
}
