//! Slack: a Block Kit message to an incoming webhook — a header with the template name, a context
//! line with the period, the executive summary, the takeaways as bullets and an "Open report"
//! button. Slack's limits (50 blocks, 3 000 characters a section, 150 a header) are met by cutting
//! with "…" and a link to the full report, never by failing.
//!
//! Chat injection: every text that comes from data — report names, periods, narratives, section
//! titles — travels in `plain_text` objects (with emoji parsing off), which Slack shows as typed:
//! no links, no mentions (`<!channel>`), no bold or code. Only our own fixed labels and the run
//! link are `mrkdwn`. The notification fallback is escaped for mrkdwn as well.

use serde_json::{json, Value};

use super::{http, text, DeliveryInput, Reply, Settings};

/// Most blocks in one message.
pub(super) const MAX_BLOCKS: usize = 50;
/// Most characters in a section's text.
pub(super) const MAX_SECTION_CHARS: usize = 3000;
/// Most characters in a header's text.
pub(super) const MAX_HEADER_CHARS: usize = 150;
/// Most characters in the notification fallback text.
const MAX_FALLBACK_CHARS: usize = 3000;

/// One attempt: POST the message to the webhook. Slack answers 200 "ok".
pub(super) async fn send(
    client: &reqwest::Client,
    webhook_url: &str,
    input: &DeliveryInput,
    settings: &Settings,
) -> Reply {
    let body = payload(input).to_string().into_bytes();
    http::send_json(client, webhook_url, http::json_headers(), body, settings, false).await
}

/// The whole message: `text` fallback plus blocks.
pub(super) fn payload(input: &DeliveryInput) -> Value {
    let digest = text::digest(input);
    let link = read_more(&input.run_url);
    let mut blocks = vec![
        header(&input.template_name),
        json!({"type": "context", "elements": [plain(&clip(&text::subtitle(input)))]}),
        section(&clip(&digest.summary)),
    ];
    // The headline chart, when Slack can fetch it (a signed, expiring link to its PNG).
    if let Some((url, title)) = &input.headline_chart {
        let title = text::truncate(title, 2000);
        blocks.push(json!({"type": "image", "image_url": url, "alt_text": title, "title": plain(&title)}));
    }
    if !digest.items.is_empty() {
        blocks.push(json!({"type": "section", "text": mrkdwn(&format!("*{}*", digest.items_title))}));
        blocks.push(section(&clip(&bullets(&digest.items))));
    }
    if [text::subtitle(input), digest.summary.clone(), bullets(&digest.items)]
        .iter()
        .any(|t| t.chars().count() > MAX_SECTION_CHARS)
    {
        blocks.push(json!({"type": "context", "elements": [mrkdwn(link.trim())]}));
    }
    blocks.push(actions(&input.run_url));
    json!({"text": fallback(input, &digest.summary), "blocks": cap_blocks(blocks)})
}

/// The header block: plain text (not parsed by Slack, so not escaped), at most 150 characters.
fn header(name: &str) -> Value {
    let name = if name.trim().is_empty() { "Report" } else { name.trim() };
    json!({"type": "header", "text": {"type": "plain_text", "text": text::truncate(name, MAX_HEADER_CHARS), "emoji": true}})
}

/// A mrkdwn text object: only for our own labels and links, never for data.
fn mrkdwn(t: &str) -> Value {
    json!({"type": "mrkdwn", "text": t})
}

/// A plain-text object: data, shown exactly as typed.
fn plain(t: &str) -> Value {
    json!({"type": "plain_text", "text": t, "emoji": false})
}

/// A section block of plain text (data).
fn section(t: &str) -> Value {
    json!({"type": "section", "text": plain(t)})
}

/// The bullet list (data).
fn bullets(items: &[String]) -> String {
    items.iter().map(|i| format!("• {i}")).collect::<Vec<_>>().join("\n")
}

/// Plain text cut to the section limit with "…" (the link to the rest follows in its own block).
fn clip(t: &str) -> String {
    text::truncate(t, MAX_SECTION_CHARS)
}

/// The "Open report" button.
fn actions(run_url: &str) -> Value {
    json!({"type": "actions", "elements": [{
        "type": "button",
        "action_id": "open_report",
        "style": "primary",
        "text": {"type": "plain_text", "text": "Open report"},
        "url": run_url,
    }]})
}

/// The link appended to cut text: " <run_url|Read the full report>".
pub(super) fn read_more(run_url: &str) -> String {
    let url: String = text::escape_mrkdwn(run_url).chars().filter(|c| *c != '|').collect();
    if url.chars().count() > MAX_SECTION_CHARS / 2 {
        return " (open the report for the rest)".to_string();
    }
    format!(" <{url}|Read the full report>")
}

/// The notification text: title, period and the start of the summary.
fn fallback(input: &DeliveryInput, summary: &str) -> String {
    let t = format!("{} — {}: {}", input.template_name, input.period, summary);
    text::drop_partial_entity(text::prefix(&text::escape_mrkdwn(&t), MAX_FALLBACK_CHARS)).to_string()
}

/// At most 50 blocks, keeping the last one (the button).
fn cap_blocks(mut blocks: Vec<Value>) -> Vec<Value> {
    if blocks.len() > MAX_BLOCKS {
        let last = blocks.pop();
        blocks.truncate(MAX_BLOCKS - 1);
        blocks.extend(last);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::delivery::tests::sample_input;

    #[test]
    fn slack_message_has_header_context_summary_takeaways_and_a_button() {
        let input = sample_input();
        let p = payload(&input);
        let kinds: Vec<&str> = p["blocks"].as_array().unwrap().iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["header", "context", "section", "section", "section", "actions"]);
        assert_eq!(p["blocks"][0]["text"]["text"], input.template_name.as_str());
        assert!(p["blocks"][1]["elements"][0]["text"].as_str().unwrap().contains("last 7 days"));
        assert_eq!(p["blocks"][5]["elements"][0]["url"], input.run_url.as_str());
        assert_eq!(p["blocks"][5]["elements"][0]["text"]["text"], "Open report");
        assert_eq!(p["blocks"][3]["text"]["text"], "*Key takeaways*");
        assert!(p["blocks"][4]["text"]["text"].as_str().unwrap().contains("• Paid search"));
        assert!(p["text"].as_str().unwrap().starts_with("Weekly revenue"));
    }

    /// Every mrkdwn text object of a payload (the only ones Slack parses).
    fn parsed_texts(p: &Value) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("mrkdwn") => {
                    out.push(m["text"].as_str().unwrap_or_default().to_string())
                }
                Value::Object(m) => m.values().for_each(|x| walk(x, out)),
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        walk(p, &mut out);
        out
    }

    #[test]
    fn data_never_reaches_a_parsed_slack_text_so_it_cannot_link_mention_or_format() {
        let mut input = sample_input();
        let hostile = "Sales & <!channel> *urgent* _now_ ~x~ `code` <https://evil.example|click here> [also](https://evil.example)";
        input.template_name = hostile.into();
        input.period = hostile.into();
        let n = input.narrative.as_mut().unwrap();
        n.executive_summary = hostile.into();
        n.key_takeaways = vec![hostile.into()];
        let p = payload(&input);
        for t in parsed_texts(&p) {
            assert!(!t.contains("evil") && !t.contains("channel") && !t.contains("urgent"), "data in mrkdwn: {t}");
        }
        let all = p.to_string();
        assert!(all.contains("*urgent*"), "shown as typed, in plain text");
        assert!(p["text"].as_str().unwrap().contains("&lt;!channel&gt;"), "the notification fallback is escaped");
        assert_eq!(p["blocks"][2]["text"]["type"], "plain_text");
        assert_eq!(p["blocks"][2]["text"]["emoji"], false);
    }

    #[test]
    fn slack_truncates_an_oversized_narrative_with_a_link() {
        let mut input = sample_input();
        input.template_name = "T".repeat(400);
        let n = input.narrative.as_mut().unwrap();
        n.executive_summary = "Revenue & margin grew. ".repeat(900);
        n.key_takeaways = (0..40).map(|i| format!("Takeaway {i}: {}", "x".repeat(200))).collect();
        let p = payload(&input);
        let blocks = p["blocks"].as_array().unwrap();
        assert!(blocks.len() <= MAX_BLOCKS);
        assert!(p["blocks"][0]["text"]["text"].as_str().unwrap().chars().count() <= MAX_HEADER_CHARS);
        let link = format!("<{}|Read the full report>", input.run_url);
        let sections: Vec<&str> = blocks
            .iter()
            .filter(|b| b["type"] == "section" && b["text"]["type"] == "plain_text")
            .map(|b| b["text"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(sections.len(), 2);
        for s in sections {
            assert!(s.chars().count() <= MAX_SECTION_CHARS, "{} chars", s.chars().count());
            assert!(s.ends_with('…'));
        }
        assert!(parsed_texts(&p).iter().any(|t| t == &link), "the rest is a link away");
        assert!(p["text"].as_str().unwrap().chars().count() <= MAX_FALLBACK_CHARS);
    }

    #[test]
    fn slack_without_a_narrative_lists_the_sections() {
        let mut input = sample_input();
        input.narrative = None;
        let p = payload(&input);
        assert_eq!(p["blocks"][3]["text"]["text"], "*Sections*");
        let body = p["blocks"][4]["text"]["text"].as_str().unwrap();
        assert!(body.contains("• Revenue by channel: 12 rows"), "{body}");
    }

    #[test]
    fn more_than_fifty_blocks_keep_the_button_last() {
        let blocks: Vec<Value> =
            (0..60).map(|i| json!({"type": "section", "n": i})).chain([actions("https://x")]).collect();
        let capped = cap_blocks(blocks);
        assert_eq!(capped.len(), MAX_BLOCKS);
        assert_eq!(capped.last().unwrap()["type"], "actions");
    }
}
