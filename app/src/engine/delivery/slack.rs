//! Slack: a Block Kit message to an incoming webhook — a header with the template name, a context
//! line with the period, the executive summary, the takeaways as bullets and an "Open report"
//! button. Slack's limits (50 blocks, 3 000 characters a section, 150 a header) are met by cutting
//! with "…" and a link to the full report, never by failing. Data is escaped for mrkdwn.

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
        json!({"type": "context", "elements": [mrkdwn(&fit(&text::escape_mrkdwn(&text::subtitle(input)), &link))]}),
        section(&fit(&text::escape_mrkdwn(&digest.summary), &link)),
    ];
    if !digest.items.is_empty() {
        blocks.push(section(&fit(&bullets(digest.items_title, &digest.items), &link)));
    }
    blocks.push(actions(&input.run_url));
    json!({"text": fallback(input, &digest.summary), "blocks": cap_blocks(blocks)})
}

/// The header block: plain text (not parsed by Slack, so not escaped), at most 150 characters.
fn header(name: &str) -> Value {
    let name = if name.trim().is_empty() { "Report" } else { name.trim() };
    json!({"type": "header", "text": {"type": "plain_text", "text": text::truncate(name, MAX_HEADER_CHARS), "emoji": true}})
}

/// A mrkdwn text object.
fn mrkdwn(t: &str) -> Value {
    json!({"type": "mrkdwn", "text": t})
}

/// A section block of mrkdwn text.
fn section(t: &str) -> Value {
    json!({"type": "section", "text": mrkdwn(t)})
}

/// The bullet list under a bold title, escaped.
fn bullets(title: &str, items: &[String]) -> String {
    let lines: Vec<String> = items.iter().map(|i| format!("• {}", text::escape_mrkdwn(i))).collect();
    format!("*{title}*\n{}", lines.join("\n"))
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

/// Escaped mrkdwn cut to the section limit; when cut, ends with "…" and the link.
fn fit(escaped: &str, link: &str) -> String {
    if escaped.chars().count() <= MAX_SECTION_CHARS {
        return escaped.to_string();
    }
    let room = MAX_SECTION_CHARS.saturating_sub(link.chars().count() + 1);
    let kept = text::drop_partial_entity(text::prefix(escaped, room));
    format!("{kept}…{link}")
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
        assert_eq!(kinds, ["header", "context", "section", "section", "actions"]);
        assert_eq!(p["blocks"][0]["text"]["text"], input.template_name.as_str());
        assert!(p["blocks"][1]["elements"][0]["text"].as_str().unwrap().contains("last 7 days"));
        assert_eq!(p["blocks"][4]["elements"][0]["url"], input.run_url.as_str());
        assert_eq!(p["blocks"][4]["elements"][0]["text"]["text"], "Open report");
        assert!(p["blocks"][3]["text"]["text"].as_str().unwrap().contains("• Paid search"));
        assert!(p["text"].as_str().unwrap().starts_with("Weekly revenue"));
    }

    #[test]
    fn slack_escapes_mrkdwn_control_characters_in_data() {
        let mut input = sample_input();
        input.narrative.as_mut().unwrap().executive_summary = "Sales & <!channel> > plan".into();
        let p = payload(&input);
        assert_eq!(p["blocks"][2]["text"]["text"], "Sales &amp; &lt;!channel&gt; &gt; plan");
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
        let sections: Vec<&str> =
            blocks.iter().filter(|b| b["type"] == "section").map(|b| b["text"]["text"].as_str().unwrap()).collect();
        assert_eq!(sections.len(), 2);
        for s in sections {
            assert!(s.chars().count() <= MAX_SECTION_CHARS, "{} chars", s.chars().count());
            assert!(s.ends_with(&link), "ends with {:?}", s.chars().rev().take(80).collect::<String>());
            assert!(s.contains('…'));
            assert!(!s.contains("&am…") && !s.contains("&a…"), "no entity is cut in half");
        }
        assert!(p["text"].as_str().unwrap().chars().count() <= MAX_FALLBACK_CHARS);
    }

    #[test]
    fn slack_without_a_narrative_lists_the_sections() {
        let mut input = sample_input();
        input.narrative = None;
        let p = payload(&input);
        let body = p["blocks"][3]["text"]["text"].as_str().unwrap();
        assert!(body.starts_with("*Sections*"), "{body}");
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
