//! Email through the configured SMTP server (lettre, async over tokio): subject "<template> —
//! <date>", a plain-text and an HTML body (multipart/alternative). The HTML body is the report as
//! a mail client can show it — table layout, inline CSS, no script: the title and period, the
//! summary, the key figures, the takeaways and every chart as a PNG image carried inline by
//! Content-ID (multipart/related; SVG does not display in Gmail or Outlook), then the report link.
//! All of it sits inside multipart/mixed with every artifact attached — or, when the
//! artifacts together exceed the size cap, their download links instead, saying so. Permanent SMTP
//! errors (5xx) fail; transient ones (4xx) and connection trouble are retried. The SMTP URL holds
//! credentials: it is never logged nor returned.
//!
//! Sender policy: the operator's server sends, so the operator decides who it sends as. With
//! `NARRATE_SMTP_FROM` set, that is the `From` of every report, and a tenant's own address goes to
//! `Reply-To` — unless its domain is one `NARRATE_SMTP_ALLOWED_FROM_DOMAINS` lets tenants use.
//! Without `NARRATE_SMTP_FROM`, a tenant's address is the sender, and the allowed domains (when
//! set) are enforced when the destination is saved.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::response::Response;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{text, Artifact, Attempt, DeliveryInput, Reply, Settings};
use crate::engine::outbound;

/// The error when no SMTP server is configured.
pub(super) const NOT_CONFIGURED: &str = "email is not configured: set NARRATE_SMTP_URL";

/// The slowest upload speed an attempt allows for before timing out, in bytes a second.
const MIN_UPLOAD_BYTES_PER_SEC: usize = 256 * 1024;

/// One attempt: build the message, connect, send.
pub(super) async fn send(
    from: &str,
    to: &[String],
    reply_to: Option<&str>,
    input: &DeliveryInput,
    settings: &Settings,
) -> Reply {
    let Some(smtp_url) = settings.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Reply::fail(NOT_CONFIGURED);
    };
    let attach = attaches(input, settings);
    let message = match build(from, to, reply_to, input, settings) {
        Ok(m) => m,
        Err(e) => return Reply::fail(e),
    };
    let mailer = match transport(smtp_url, settings.attempt_timeout) {
        Ok(m) => m,
        Err(e) => return Reply::fail(e),
    };
    let attached: usize = if attach { input.artifacts.iter().map(|a| a.bytes.len()).sum() } else { 0 };
    let limit = settings.attempt_timeout + Duration::from_secs((attached / MIN_UPLOAD_BYTES_PER_SEC) as u64);
    match tokio::time::timeout(limit, mailer.send(message)).await {
        Ok(Ok(response)) => Reply {
            attempt: Attempt::Delivered { response_id: queue_id(&response_text(&response)) },
            http_status: None,
        },
        Ok(Err(e)) => failure(&e),
        Err(_) => Reply::retry("SMTP timed out"),
    }
}

/// Whether the artifacts go as attachments (all of them fit the cap) or as links.
pub(super) fn attaches(input: &DeliveryInput, settings: &Settings) -> bool {
    input.artifacts.iter().map(|a| a.bytes.len()).sum::<usize>() <= settings.email_max_bytes
}

/// The SMTP transport from the URL (`smtp://`, `smtp://…?tls=required`, `smtps://`).
fn transport(smtp_url: &str, timeout: Duration) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    outbound::install_crypto();
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
        .map_err(|e| format!("the SMTP server setting (NARRATE_SMTP_URL) cannot be used: {e}"))?;
    Ok(builder.timeout(Some(timeout)).build())
}

/// Maps a send error: permanent (5xx) and client errors fail, the rest is retried.
fn failure(e: &lettre::transport::smtp::Error) -> Reply {
    let detail = e.to_string();
    if e.is_permanent() {
        Reply::fail(format!("the SMTP server refused the message: {detail}"))
    } else if e.is_client() {
        Reply::fail(format!("the message could not be sent: {detail}"))
    } else if e.is_timeout() {
        Reply::retry("SMTP timed out")
    } else if e.is_transient() {
        Reply::retry(format!("the SMTP server deferred the message: {detail}"))
    } else {
        Reply::retry(format!("could not deliver to the SMTP server: {detail}"))
    }
}

/// The server's reply text on one line.
fn response_text(r: &Response) -> String {
    r.message().collect::<Vec<_>>().join(" ")
}

/// The queue id in an SMTP reply ("Ok: queued as 4AB12" or "OK id=1abc-0002"), if any.
pub(super) fn queue_id(reply: &str) -> Option<String> {
    let lower = reply.to_ascii_lowercase();
    let at = ["queued as ", "id="].iter().find_map(|k| lower.find(k).map(|i| i + k.len()))?;
    let id: String = reply[at..]
        .chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        .collect();
    let id = id.trim_end_matches('.').to_string();
    (!id.is_empty()).then(|| text::truncate(&id, 200))
}

/// The whole message.
pub(super) fn build(
    from: &str,
    to: &[String],
    reply_to: Option<&str>,
    input: &DeliveryInput,
    settings: &Settings,
) -> Result<Message, String> {
    let (sender, reply_to) = sender_of(from, reply_to, settings)?;
    let reply_to = reply_to.as_deref();
    if to.iter().all(|t| t.trim().is_empty()) {
        return Err("the email destination has no recipients".into());
    }
    let mut b = Message::builder()
        .message_id(Some(format!("<{}@{}>", input.delivery_id, sender.email.domain())))
        .from(sender)
        .subject(subject(input));
    for t in to.iter().filter(|t| !t.trim().is_empty()) {
        b = b.to(mailbox(t, "recipient")?);
    }
    if let Some(r) = reply_to.filter(|r| !r.trim().is_empty()) {
        b = b.reply_to(mailbox(r, "reply-to")?);
    }
    let attach = attaches(input, settings);
    let bodies = if input.charts.is_empty() {
        MultiPart::alternative_plain_html(plain(input, attach, settings), html(input, attach, settings))
    } else {
        let mut related = MultiPart::related().singlepart(SinglePart::html(html(input, attach, settings)));
        let png = ContentType::parse("image/png").map_err(|_| "image/png".to_string())?;
        for (i, c) in input.charts.iter().enumerate() {
            let body =
                Body::new_with_encoding(c.png.to_vec(), ContentTransferEncoding::Base64).unwrap_or_else(Body::new);
            related = related.singlepart(Attachment::new_inline(content_id(input, i)).body(body, png.clone()));
        }
        MultiPart::alternative().singlepart(SinglePart::plain(plain(input, attach, settings))).multipart(related)
    };
    let mut mixed = MultiPart::mixed().multipart(bodies);
    if attach {
        for a in &input.artifacts {
            mixed = mixed.singlepart(attachment(a)?);
        }
    }
    b.multipart(mixed).map_err(|e| format!("the email could not be built: {e}"))
}

/// Whether an address's domain is one tenants may send as.
pub fn domain_allowed(addr: &str, allowed: &[String]) -> bool {
    let domain = addr.trim().rsplit('@').next().unwrap_or_default().trim_end_matches('>').to_ascii_lowercase();
    allowed.iter().any(|d| d.eq_ignore_ascii_case(&domain))
}

/// The sender and reply-to of a report mail under the operator's policy (see the module doc).
fn sender_of(from: &str, reply_to: Option<&str>, settings: &Settings) -> Result<(Mailbox, Option<String>), String> {
    match settings.smtp_from.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(operator) if !domain_allowed(from, &settings.allowed_from_domains) => {
            let reply = reply_to.filter(|r| !r.trim().is_empty()).unwrap_or(from);
            Ok((mailbox(operator, "operator's sender")?, Some(reply.to_string()).filter(|r| !r.trim().is_empty())))
        }
        _ => Ok((mailbox(from, "sender")?, reply_to.map(str::to_string))),
    }
}

/// An address parsed by lettre; the error names the role and the address.
fn mailbox(addr: &str, role: &str) -> Result<Mailbox, String> {
    addr.trim()
        .parse::<Mailbox>()
        .map_err(|_| format!("the {role} address \"{}\" is not valid", text::truncate(addr.trim(), 100)))
}

/// "<template name> — <YYYY-MM-DD>".
pub(super) fn subject(input: &DeliveryInput) -> String {
    format!("{} — {}", input.template_name.trim(), text::date_of(&input.generated_at))
}

/// One artifact as a base64 attachment with its file name and media type.
fn attachment(a: &Artifact) -> Result<SinglePart, String> {
    let content_type = ContentType::parse(&a.media_type)
        .or_else(|_| ContentType::parse("application/octet-stream"))
        .map_err(|_| format!("the media type of {} is not valid", a.filename))?;
    let body = Body::new_with_encoding(a.bytes.to_vec(), ContentTransferEncoding::Base64).unwrap_or_else(Body::new);
    Ok(Attachment::new(a.filename.clone()).body(body, content_type))
}

/// The sentence that introduces links in place of attachments.
pub(super) fn too_large(settings: &Settings) -> String {
    format!(
        "The files are larger than the {} email limit, so they are linked instead (the links expire):",
        text::human_size(settings.email_max_bytes)
    )
}

/// The plain-text body.
pub(super) fn plain(input: &DeliveryInput, attach: bool, settings: &Settings) -> String {
    let d = text::digest(input);
    let mut out = format!("{}\n{}\n\n{}\n", input.template_name.trim(), text::subtitle(input), d.summary);
    if !d.items.is_empty() {
        out.push_str(&format!("\n{}\n", d.items_title));
        for i in &d.items {
            out.push_str(&format!("- {i}\n"));
        }
    }
    out.push_str(&format!("\nOpen the report: {}\n", input.run_url));
    if input.artifacts.is_empty() {
        return out;
    }
    if attach {
        let names: Vec<String> =
            input.artifacts.iter().map(|a| format!("{} ({})", a.filename, text::human_size(a.bytes.len()))).collect();
        out.push_str(&format!("\nAttached: {}.\n", names.join(", ")));
    } else {
        out.push_str(&format!("\n{}\n", too_large(settings)));
        for a in &input.artifacts {
            out.push_str(&format!("- {} ({}): {}\n", a.filename, text::human_size(a.bytes.len()), a.download_url));
        }
    }
    out
}

/// The Content-ID of the `i`th chart of a delivery (unique per message: the delivery id is).
pub(super) fn content_id(input: &DeliveryInput, i: usize) -> String {
    let id: String = input.delivery_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    format!("chart-{i}.{id}@narrate")
}

/// Colours of a KPI's Δ by its chip.
fn chip_color(chip: &str) -> &'static str {
    match chip {
        "green" => "#0f7a52",
        "red" => "#c2362f",
        "blue" => "#1f66d1",
        _ => "#52606d",
    }
}

/// The HTML body (every piece of data escaped): the report laid out for mail clients.
pub(super) fn html(input: &DeliveryInput, attach: bool, settings: &Settings) -> String {
    let e = text::escape_html;
    let d = text::digest(input);
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><body style=\"margin:0;padding:0;background:#f4f6f8\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f6f8\"><tr><td align=\"center\" style=\"padding:16px 8px\">\n\
         <table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" style=\"width:100%;max-width:640px;background:#ffffff;border:1px solid #e3e6eb;border-radius:8px;font-family:Arial,Helvetica,sans-serif;color:#1f2933;line-height:1.5\">\n",
    );
    let row = |out: &mut String, inner: String| {
        out.push_str(&format!("<tr><td style=\"padding:0 20px 12px\">{inner}</td></tr>\n"))
    };
    out.push_str(&format!(
        "<tr><td style=\"padding:20px 20px 4px\"><h1 style=\"font-size:20px;margin:0 0 4px\">{}</h1>\n<p style=\"color:#52606d;margin:0 0 8px;font-size:13px\">{}</p></td></tr>\n",
        e(input.template_name.trim()),
        e(&text::subtitle(input))
    ));
    row(&mut out, format!("<p style=\"margin:0\">{}</p>", e(&d.summary)));
    if !input.kpis.is_empty() {
        let mut t = String::from("<table role=\"presentation\" width=\"100%\" cellpadding=\"6\" cellspacing=\"0\" style=\"border-collapse:collapse;font-size:13px\">");
        t.push_str("<tr><th align=\"left\" style=\"color:#52606d;border-bottom:1px solid #d3d8e0\">Key figure</th><th align=\"right\" style=\"color:#52606d;border-bottom:1px solid #d3d8e0\">Value</th><th align=\"right\" style=\"color:#52606d;border-bottom:1px solid #d3d8e0\">Δ</th><th align=\"right\" style=\"color:#52606d;border-bottom:1px solid #d3d8e0\">Previous</th></tr>");
        for k in &input.kpis {
            t.push_str(&format!(
                "<tr><td style=\"border-bottom:1px solid #eef0f3\">{}</td><td align=\"right\" style=\"border-bottom:1px solid #eef0f3;font-weight:bold\">{}</td><td align=\"right\" style=\"border-bottom:1px solid #eef0f3;color:{}\">{}</td><td align=\"right\" style=\"border-bottom:1px solid #eef0f3;color:#52606d\">{}</td></tr>",
                e(&k.label),
                e(&k.value),
                chip_color(&k.chip),
                e(&k.delta),
                e(&k.previous)
            ));
        }
        t.push_str("</table>");
        row(&mut out, t);
    }
    if !d.items.is_empty() {
        let mut t = format!(
            "<h2 style=\"font-size:16px;margin:4px 0\">{}</h2><ul style=\"margin:0;padding-left:20px\">",
            e(d.items_title)
        );
        for i in &d.items {
            t.push_str(&format!("<li>{}</li>", e(i)));
        }
        t.push_str("</ul>");
        row(&mut out, t);
    }
    for (i, c) in input.charts.iter().enumerate() {
        row(
            &mut out,
            format!(
                "<h2 style=\"font-size:16px;margin:8px 0 6px\">{title}</h2><img src=\"cid:{cid}\" width=\"{w}\" height=\"{h}\" alt=\"{title}\" style=\"display:block;width:100%;max-width:{w}px;height:auto;border:0\">",
                title = e(&c.title),
                cid = content_id(input, i),
                w = c.width,
                h = c.height
            ),
        );
    }
    let url = e(&input.run_url);
    row(
        &mut out,
        format!("<p style=\"margin:8px 0 0\"><a href=\"{url}\" style=\"display:inline-block;background:#2f5bea;color:#ffffff;text-decoration:none;padding:8px 14px;border-radius:6px;font-weight:bold\">Open the report</a></p><p style=\"font-size:12px;color:#52606d\">{url}</p>"),
    );
    if !attach && !input.artifacts.is_empty() {
        let mut t = format!("<p>{}</p><ul>", e(&too_large(settings)));
        for a in &input.artifacts {
            let link = e(&a.download_url);
            t.push_str(&format!(
                "<li><a href=\"{link}\">{}</a> ({}): {link}</li>",
                e(&a.filename),
                text::human_size(a.bytes.len())
            ));
        }
        t.push_str("</ul>");
        row(&mut out, t);
    }
    out.push_str("</table>\n</td></tr></table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_are_read_from_common_smtp_replies() {
        assert_eq!(queue_id("2.0.0 Ok: queued as 4AB12CD"), Some("4AB12CD".into()));
        assert_eq!(queue_id("OK id=1r5xyz-000abc-12"), Some("1r5xyz-000abc-12".into()));
        assert_eq!(queue_id("2.0.0 OK 1700000000 x-abc.1 - gsmtp"), None);
    }
}
