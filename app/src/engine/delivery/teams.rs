//! Microsoft Teams: an Adaptive Card (1.4) posted to a Workflows (Power Automate) webhook — a
//! colour band by run status holding the title and period, the summary, the takeaways and an
//! "Open report" action. The serialized message is kept under 28 KB by shortening the summary and
//! the takeaways step by step (with "…" and a "Read the full report" note) until it fits.
//! HTTP 202 means the workflow queued the message: the attempt is recorded as accepted.
//!
//! Chat injection: Teams parses Markdown in a `TextBlock` (links, emphasis, lists), so every text
//! that comes from data travels in a `RichTextBlock` of `TextRun`s, which are shown as typed.
//! Only our own fixed labels and the run link are `TextBlock`s.

use crate::model::runs::RunStatus;
use serde_json::{json, Value};

use super::{http, text, DeliveryInput, Reply, Settings};

/// Largest serialized message (Teams refuses messages over 28 KB; 28 000 bytes is under either
/// reading of "KB").
pub(super) const MAX_BYTES: usize = 28_000;
/// Most characters of the title and of the period line, whatever the budget.
const MAX_LINE_CHARS: usize = 256;

/// One attempt: POST the card. 200 is delivered, 202 accepted.
pub(super) async fn send(
    client: &reqwest::Client,
    webhook_url: &str,
    input: &DeliveryInput,
    settings: &Settings,
) -> Reply {
    http::send_json(client, webhook_url, http::json_headers(), payload(input), settings, true).await
}

/// How much of the digest goes into the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Budget {
    /// Characters of the summary.
    summary: usize,
    /// Characters of each item.
    item: usize,
    /// How many items.
    items: usize,
}

impl Budget {
    /// Everything.
    fn full(digest: &text::Digest) -> Budget {
        Budget {
            summary: digest.summary.chars().count(),
            item: digest.items.iter().map(|i| i.chars().count()).max().unwrap_or(0),
            items: digest.items.len(),
        }
    }

    /// A quarter less of everything.
    fn shrink(self) -> Budget {
        Budget { summary: self.summary * 3 / 4, item: self.item * 3 / 4, items: self.items * 3 / 4 }
    }

    /// Nothing left to cut.
    fn is_empty(self) -> bool {
        self.summary == 0 && self.items == 0
    }
}

/// The serialized message, shrunk until it fits [`MAX_BYTES`].
pub(super) fn payload(input: &DeliveryInput) -> Vec<u8> {
    let digest = text::digest(input);
    let mut budget = Budget::full(&digest);
    loop {
        let bytes = message(input, &digest, budget).to_string().into_bytes();
        if bytes.len() <= MAX_BYTES || budget.is_empty() {
            return bytes;
        }
        budget = budget.shrink();
    }
}

/// The Workflows envelope around the card.
fn message(input: &DeliveryInput, digest: &text::Digest, budget: Budget) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card(input, digest, budget),
        }],
    })
}

/// The Adaptive Card.
fn card(input: &DeliveryInput, digest: &text::Digest, budget: Budget) -> Value {
    let (summary, summary_cut) = clip(&digest.summary, budget.summary);
    let mut body = vec![band(input), rich(&summary, json!({}), "Medium")];
    // The headline chart, when Teams can fetch it (a signed, expiring link to its PNG).
    if let Some((url, title)) = &input.headline_chart {
        body.push(json!({"type": "Image", "url": url, "altText": text::truncate(title, 200), "size": "Stretch", "spacing": "Medium"}));
    }
    let shown: Vec<(String, bool)> = digest.items.iter().take(budget.items).map(|i| clip(i, budget.item)).collect();
    let mut cut = summary_cut || shown.iter().any(|(_, c)| *c);
    if !shown.is_empty() {
        body.push(json!({"type": "TextBlock", "text": digest.items_title, "weight": "Bolder", "wrap": true, "spacing": "Medium"}));
        body.extend(shown.iter().map(|(t, _)| rich(&format!("• {t}"), json!({}), "Small")));
    }
    let hidden = digest.items.len() - shown.len();
    if hidden > 0 {
        body.push(json!({"type": "TextBlock", "text": format!("- … and {hidden} more"), "wrap": true, "spacing": "Small", "isSubtle": true}));
        cut = true;
    }
    if cut {
        body.push(json!({"type": "TextBlock", "text": format!("[Read the full report]({})", input.run_url), "wrap": true, "isSubtle": true}));
    }
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open report", "url": input.run_url}],
    })
}

/// The coloured container with the title and the period line.
fn band(input: &DeliveryInput) -> Value {
    let title = if input.template_name.trim().is_empty() { "Report" } else { input.template_name.trim() };
    json!({
        "type": "Container",
        "style": style(input.status),
        "bleed": true,
        "items": [
            rich(&text::truncate(title, MAX_LINE_CHARS), json!({"size": "Large", "weight": "Bolder"}), "None"),
            rich(&text::truncate(&text::subtitle(input), MAX_LINE_CHARS), json!({"isSubtle": true}), "None"),
        ],
    })
}

/// The container style (colour band) of a run status.
pub(super) fn style(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "good",
        RunStatus::Failed | RunStatus::Partial => "attention",
        RunStatus::Queued | RunStatus::Running => "accent",
        RunStatus::Skipped => "default",
    }
}

/// Data as a rich text block of one run: shown exactly as typed (no Markdown), with the run's
/// styling (`size`, `weight`, `isSubtle`).
fn rich(t: &str, style: Value, spacing: &str) -> Value {
    let mut run = json!({"type": "TextRun", "text": t});
    if let (Some(r), Some(extra)) = (run.as_object_mut(), style.as_object()) {
        r.extend(extra.clone());
    }
    json!({"type": "RichTextBlock", "inlines": [run], "spacing": spacing})
}

/// `s` cut to `max` characters with "…", and whether it was cut.
fn clip(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        (s.to_string(), false)
    } else {
        (format!("{}…", text::prefix(s, max)), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::delivery::tests::sample_input;

    fn parsed(input: &DeliveryInput) -> Value {
        serde_json::from_slice(&payload(input)).unwrap()
    }

    #[test]
    fn teams_card_is_an_adaptive_card_1_4_with_an_open_report_action() {
        let input = sample_input();
        let v = parsed(&input);
        assert_eq!(v["type"], "message");
        let att = &v["attachments"][0];
        assert_eq!(att["contentType"], "application/vnd.microsoft.card.adaptive");
        assert!(att["contentUrl"].is_null());
        let card = &att["content"];
        assert_eq!((card["type"].as_str(), card["version"].as_str()), (Some("AdaptiveCard"), Some("1.4")));
        assert_eq!(card["msteams"]["width"], "Full");
        assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
        assert_eq!(card["actions"][0]["title"], "Open report");
        assert_eq!(card["actions"][0]["url"], input.run_url.as_str());
        let band = &card["body"][0];
        assert_eq!((band["type"].as_str(), band["style"].as_str()), (Some("Container"), Some("good")));
        let title = &band["items"][0]["inlines"][0];
        assert_eq!(title["text"], "Weekly revenue");
        assert_eq!((title["size"].as_str(), title["weight"].as_str()), (Some("Large"), Some("Bolder")));
        assert_eq!(band["items"][1]["inlines"][0]["isSubtle"], true);
        assert_eq!(card["body"][1]["inlines"][0]["text"], input.narrative.as_ref().unwrap().executive_summary.as_str());
        assert!(card["body"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["inlines"][0]["text"].as_str().is_some_and(|t| t.starts_with("• Paid search"))));
        assert!(!String::from_utf8(payload(&input)).unwrap().contains("Read the full report"), "nothing was cut");
    }

    #[test]
    fn data_never_reaches_a_markdown_text_block_so_it_cannot_link_or_format() {
        let mut input = sample_input();
        let hostile = "**urgent** [click](https://evil.example) <at>everyone</at> _x_";
        input.template_name = hostile.into();
        let n = input.narrative.as_mut().unwrap();
        n.executive_summary = hostile.into();
        n.key_takeaways = vec![hostile.into()];
        let v = parsed(&input);
        let mut blocks = Vec::new();
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("TextBlock") => {
                    out.push(m["text"].as_str().unwrap_or_default().to_string())
                }
                Value::Object(m) => m.values().for_each(|x| walk(x, out)),
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        walk(&v, &mut blocks);
        for t in &blocks {
            assert!(!t.contains("evil") && !t.contains("urgent"), "data in a Markdown text block: {t}");
        }
        assert!(v.to_string().contains("[click](https://evil.example)"), "shown as typed, in a text run");
    }

    #[test]
    fn teams_band_colour_follows_the_run_status() {
        assert_eq!(style(RunStatus::Succeeded), "good");
        assert_eq!(style(RunStatus::Failed), "attention");
        assert_eq!(style(RunStatus::Partial), "attention");
        assert_eq!(style(RunStatus::Running), "accent");
    }

    #[test]
    fn teams_keeps_an_oversized_card_under_28_kb() {
        let mut input = sample_input();
        let n = input.narrative.as_mut().unwrap();
        n.executive_summary = "Revenue grew “strongly” in every region. ".repeat(500);
        n.key_takeaways = (0..40).map(|i| format!("Takeaway {i}: {}", "é".repeat(300))).collect();
        let bytes = payload(&input);
        assert!(bytes.len() <= MAX_BYTES, "{} bytes", bytes.len());
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let body = v["attachments"][0]["content"]["body"].as_array().unwrap();
        assert!(body[1]["inlines"][0]["text"].as_str().unwrap().ends_with('…'));
        let last = body.last().unwrap()["text"].as_str().unwrap();
        assert_eq!(last, format!("[Read the full report]({})", input.run_url));
        assert!(bytes.len() > MAX_BYTES / 2, "it shrinks only as much as needed, here to {} bytes", bytes.len());
    }
}
