//! What a destination would receive, computed by the same builders that send (Slack blocks, the
//! Teams card, the email's subject, bodies and attachments, the webhook's JSON and headers), with
//! nothing sent and every secret redacted. A preview also draws the chat messages as HTML the way
//! Slack and Teams lay them out, so a person sees the message, not only its JSON.

use super::{email, slack, teams, webhook, DeliveryInput, Destination, Settings};
use crate::model::chart::xml_escape;
use crate::model::reports::{AttachmentPreview, DeliveryPreview};
use serde_json::Value;

/// What every redacted value reads as.
pub const REDACTED: &str = "••••••••";

/// The preview of one destination.
pub fn preview(dest: &Destination, name: &str, input: &DeliveryInput, settings: &Settings) -> DeliveryPreview {
    let mut p = DeliveryPreview { kind: dest.kind().to_string(), name: name.to_string(), ..Default::default() };
    let files = || {
        input
            .artifacts
            .iter()
            .map(|a| AttachmentPreview {
                filename: a.filename.clone(),
                media_type: a.media_type.clone(),
                size_bytes: a.bytes.len() as i64,
            })
            .collect::<Vec<_>>()
    };
    // Chat apps fetch the headline chart from its signed public URL; the drawing shows the same
    // PNG inline (the page may only load images from itself).
    let headline = input.headline_chart.as_ref().zip(input.charts.first()).map(|(_, c)| {
        use base64::Engine as _;
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(c.png.as_slice()))
    });
    match dest {
        Destination::Slack { .. } => {
            let payload = slack::payload(input);
            p.text = payload["text"].as_str().map(str::to_string);
            p.drawn = Some(draw_slack(&payload["blocks"], headline.as_deref()));
            p.blocks = Some(payload["blocks"].clone());
            p.links = input.artifacts.iter().map(|a| a.filename.clone()).collect();
        }
        Destination::Teams { .. } => {
            let message: Value = serde_json::from_slice(&teams::payload(input)).unwrap_or_default();
            let card = &message["attachments"][0]["content"];
            p.drawn = Some(draw_teams(card, headline.as_deref()));
            p.card = Some(card.clone());
        }
        Destination::Email { from, to, reply_to } => {
            let attach = email::attaches(input, settings);
            p.subject = Some(email::subject(input));
            p.recipients = to.iter().filter(|t| !t.trim().is_empty()).cloned().collect();
            p.from = Some(settings.smtp_from.clone().unwrap_or_else(|| from.clone()));
            p.reply_to = reply_to.clone().filter(|r| !r.trim().is_empty());
            p.text = Some(email::plain(input, attach, settings));
            // The charts travel inline by Content-ID; the preview shows the same images as data.
            let mut html = email::html(input, attach, settings);
            for (i, c) in input.charts.iter().enumerate() {
                use base64::Engine as _;
                let data = base64::engine::general_purpose::STANDARD.encode(c.png.as_slice());
                html = html
                    .replace(&format!("cid:{}", email::content_id(input, i)), &format!("data:image/png;base64,{data}"));
            }
            p.html = Some(html);
            if attach {
                p.attachments = files();
            } else {
                p.links = input.artifacts.iter().map(|a| a.filename.clone()).collect();
            }
            if settings.smtp_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
                p.warning = Some(email::NOT_CONFIGURED.to_string());
            }
        }
        Destination::Webhook { secret, headers, .. } => {
            let body = webhook::payload(input, settings);
            let mut shown: Vec<(String, String)> =
                headers.iter().map(|(k, _)| (k.trim().to_ascii_lowercase(), REDACTED.to_string())).collect();
            shown.push(("content-type".into(), "application/json".into()));
            shown.push(("webhook-id".into(), input.delivery_id.clone()));
            shown.push(("webhook-timestamp".into(), "the time of each attempt (Unix seconds)".into()));
            if secret.as_deref().is_some_and(|s| !s.is_empty()) {
                shown.push(("webhook-signature".into(), format!("v1,{REDACTED}")));
            }
            p.headers = shown;
            p.json = Some(redact_inline(body));
            p.attachments = files();
        }
    }
    p
}

/// A webhook body with each inline file's base64 replaced by its size: the preview shows the
/// shape, not megabytes of data.
fn redact_inline(mut body: Value) -> Value {
    if let Some(list) = body["artifacts"].as_array_mut() {
        for a in list {
            if let Some(b64) = a.get("base64").and_then(Value::as_str) {
                let n = b64.len();
                a["base64"] = Value::String(format!("<{n} characters of base64>"));
            }
        }
    }
    body
}

fn esc(v: &Value) -> String {
    // A text object or a plain string.
    let v = if v.is_object() { &v["text"] } else { v };
    xml_escape(v.as_str().unwrap_or_default()).replace('\n', "<br>")
}

/// An image block as drawn: the PNG it shows when the preview has it, else its title.
fn image(title: &Value, src: Option<&str>) -> String {
    match src {
        Some(src) => format!("<img class=\"chat-image\" src=\"{}\" alt=\"{}\">", xml_escape(src), esc(title)),
        None => format!("<div class=\"chat-image\">[image: {}]</div>", esc(title)),
    }
}

/// Slack's blocks as Slack lays them out: header, context lines, sections, images, buttons.
pub fn draw_slack(blocks: &Value, image_src: Option<&str>) -> String {
    let mut out = String::from("<div class=\"slack-msg\">");
    for b in blocks.as_array().into_iter().flatten() {
        match b["type"].as_str().unwrap_or_default() {
            "header" => out.push_str(&format!("<div class=\"slack-header\">{}</div>", esc(&b["text"]["text"]))),
            "context" => {
                let parts: Vec<String> =
                    b["elements"].as_array().into_iter().flatten().map(|e| esc(&e["text"])).collect();
                out.push_str(&format!("<div class=\"slack-context\">{}</div>", parts.join(" ")));
            }
            "section" => {
                let t = &b["text"];
                let raw = t["text"].as_str().unwrap_or_default();
                // Our own mrkdwn labels are one bold phrase (`*Key takeaways*`); data is plain text.
                let bold = t["type"] == "mrkdwn" && raw.len() > 2 && raw.starts_with('*') && raw.ends_with('*');
                if bold {
                    let inner = Value::String(raw[1..raw.len() - 1].to_string());
                    out.push_str(&format!("<div class=\"slack-section\"><strong>{}</strong></div>", esc(&inner)));
                } else {
                    out.push_str(&format!("<div class=\"slack-section\">{}</div>", esc(t)));
                }
            }
            "divider" => out.push_str("<hr>"),
            "image" => out.push_str(&image(&b["alt_text"], image_src)),
            "actions" => {
                out.push_str("<div class=\"slack-actions\">");
                for e in b["elements"].as_array().into_iter().flatten() {
                    out.push_str(&format!("<span class=\"slack-button\">{}</span>", esc(&e["text"]["text"])));
                }
                out.push_str("</div>");
            }
            _ => {}
        }
    }
    out.push_str("</div>");
    out
}

/// An Adaptive Card's body as Teams lays it out: the coloured band, text blocks, images, the buttons.
pub fn draw_teams(card: &Value, image_src: Option<&str>) -> String {
    fn text_of(e: &Value) -> String {
        match e["type"].as_str().unwrap_or_default() {
            "RichTextBlock" => e["inlines"].as_array().into_iter().flatten().map(|i| esc(&i["text"])).collect(),
            _ => esc(&e["text"]),
        }
    }
    fn element(e: &Value, out: &mut String, image_src: Option<&str>) {
        match e["type"].as_str().unwrap_or_default() {
            "Image" => out.push_str(&image(&e["altText"], image_src)),
            "Container" => {
                let style = e["style"].as_str().unwrap_or("default");
                out.push_str(&format!("<div class=\"teams-band teams-{}\">", xml_escape(style)));
                for i in e["items"].as_array().into_iter().flatten() {
                    element(i, out, image_src);
                }
                out.push_str("</div>");
            }
            "TextBlock" | "RichTextBlock" => {
                let inline = &e["inlines"][0];
                let bold = e["weight"] == "Bolder" || inline["weight"] == "Bolder";
                let subtle = e["isSubtle"] == true || inline["isSubtle"] == true;
                let large = e["size"] == "Large" || inline["size"] == "Large";
                let class = [(bold, "bold"), (subtle, "subtle"), (large, "large")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, c)| *c)
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push_str(&format!("<p class=\"teams-text {class}\">{}</p>", text_of(e)));
            }
            _ => {}
        }
    }
    let mut out = String::from("<div class=\"teams-card\">");
    for e in card["body"].as_array().into_iter().flatten() {
        element(e, &mut out, image_src);
    }
    out.push_str("<div class=\"teams-actions\">");
    for a in card["actions"].as_array().into_iter().flatten() {
        out.push_str(&format!("<span class=\"teams-button\">{}</span>", esc(&a["title"])));
    }
    out.push_str("</div></div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drawings_escape_the_data_and_set_only_our_labels_in_bold() {
        let blocks = json!([
            {"type": "header", "text": {"type": "plain_text", "text": "<script>alert(1)</script>"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Key takeaways*"}},
            {"type": "section", "text": {"type": "plain_text", "text": "*not bold* & <b>data</b>"}},
            {"type": "image", "image_url": "https://x/y.png", "alt_text": "Revenue \"trend\""},
        ]);
        let html = draw_slack(&blocks, None);
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<strong>Key takeaways</strong>"));
        assert!(html.contains("*not bold* &amp; &lt;b&gt;data&lt;/b&gt;"), "data stays as typed: {html}");
        assert!(html.contains("[image: Revenue &quot;trend&quot;]"), "{html}");
        let card = json!({"body": [
            {"type": "Container", "style": "good\" onload=\"x", "items": [
                {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "<i>Title</i>", "size": "Large"}]}
            ]},
            {"type": "Image", "url": "https://x/y.png", "altText": "Chart"}
        ], "actions": [{"type": "Action.OpenUrl", "title": "Open report"}]});
        let html = draw_teams(&card, Some("data:image/png;base64,AAAA"));
        assert!(html.contains("&lt;i&gt;Title&lt;/i&gt;") && !html.contains("<i>"), "{html}");
        assert!(!html.contains("onload=\""), "attribute values are escaped: {html}");
        assert!(html.contains("src=\"data:image/png;base64,AAAA\" alt=\"Chart\""), "{html}");
    }
}
