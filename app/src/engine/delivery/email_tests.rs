//! Email delivery against an in-process SMTP server on loopback that speaks just enough SMTP
//! (220 greeting, EHLO, MAIL, RCPT, DATA, QUIT) and hands every captured message to the test,
//! which parses it back with mail-parser.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mail_parser::{MessageParser, MimeHeaders};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::email::NOT_CONFIGURED;
use super::tests::{artifact, fast, run, sample_input};
use super::*;

/// RCPT accepted.
const RCPT_OK: &str = "250 2.1.5 Ok\r\n";

/// A running test SMTP server.
struct Smtp {
    port: u16,
    messages: UnboundedReceiver<Vec<u8>>,
    sessions: Arc<AtomicUsize>,
}

/// Starts a server that answers RCPT with `rcpt_reply` and everything else positively.
async fn smtp_server(rcpt_reply: &'static str) -> Smtp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, messages) = mpsc::unbounded_channel();
    let sessions = Arc::new(AtomicUsize::new(0));
    let count = sessions.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = session(stream, tx, rcpt_reply).await;
            });
        }
    });
    Smtp { port, messages, sessions }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, tx: UnboundedSender<Vec<u8>>, rcpt_reply: &str) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 localhost ESMTP narrate-test\r\n").await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250-localhost\r\n250 SIZE 52428800\r\n"
        } else if command.starts_with("RCPT") {
            rcpt_reply.as_bytes()
        } else if command.starts_with("DATA") {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let _ = tx.send(read_data(&mut read).await?);
            b"250 2.0.0 Ok: queued as NARRATE42\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            b"250 2.0.0 Ok\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// The message after DATA, up to the lone dot, with dot-stuffing undone.
async fn read_data(read: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 || line == b".\r\n" {
            return Ok(message);
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        message.extend_from_slice(content);
    }
}

fn email_dest() -> Destination {
    Destination::Email {
        from: "Narrate Reports <reports@example.com>".into(),
        to: vec!["ops@example.com".into(), "Chief Financial <cfo@example.com>".into()],
        reply_to: Some("team@example.com".into()),
    }
}

fn settings_for(server: &Smtp) -> Settings {
    Settings { smtp_url: Some(format!("smtp://127.0.0.1:{}", server.port)), ..fast() }
}

/// The sample run with non-ASCII, HTML-hostile text and all four formats.
fn rich_input() -> DeliveryInput {
    let mut input = sample_input();
    input.narrative.as_mut().unwrap().executive_summary =
        "Revenue rose 12 % — “strong” week for <Search & Social>.".into();
    input.artifacts.push(artifact(
        "md",
        "weekly-revenue-2026-11-30.md",
        "text/markdown; charset=utf-8",
        b"# Weekly revenue\n\n- up 12 %\n".to_vec(),
    ));
    input.artifacts.push(artifact(
        "html",
        "weekly-revenue-2026-11-30.html",
        "text/html; charset=utf-8",
        b"<h1>Weekly revenue</h1>\n".to_vec(),
    ));
    input
}

/// "type/subtype" of a media type, without parameters.
fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap().trim()
}

#[tokio::test]
async fn email_attaches_every_artifact_and_carries_both_bodies() {
    let mut server = smtp_server(RCPT_OK).await;
    let input = rich_input();
    let (out, seen) = run(&email_dest(), &input, &settings_for(&server)).await;
    assert_eq!((out.status, out.attempts, out.error.as_deref()), (DeliveryStatus::Delivered, 1, None));
    assert_eq!(out.response_id.as_deref(), Some("NARRATE42"));
    assert_eq!((seen[0].result.as_str(), seen[0].http_status), ("delivered", None));
    let raw = server.messages.try_recv().expect("the server captured the message");
    assert!(raw.is_ascii(), "the message is 7-bit clean (no 8BITMIME was offered)");
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.subject(), Some("Weekly revenue — 2026-11-30"));
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("Revenue rose 12 % — “strong” week for <Search & Social>."), "{text}");
    assert!(text.contains("- Paid search drove most of the growth."), "{text}");
    assert!(text.contains(&format!("Open the report: {}", input.run_url)), "{text}");
    assert!(text.contains("last 7 days, 2026-11-24 to 2026-11-30 (UTC)"), "{text}");
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("Revenue rose 12 % — “strong” week for &lt;Search &amp; Social&gt;."), "{html}");
    assert!(html.contains("<li>Paid search drove most of the growth.</li>"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"{}\"", input.run_url)) && html.contains(">Open the report</a>"),
        "{html}"
    );
    assert_eq!(msg.attachment_count(), input.artifacts.len());
    for (part, original) in msg.attachments().zip(&input.artifacts) {
        assert_eq!(part.attachment_name(), Some(original.filename.as_str()));
        let ct = part.content_type().unwrap();
        assert_eq!(format!("{}/{}", ct.ctype(), ct.subtype().unwrap()), essence(&original.media_type));
        assert_eq!(part.contents(), original.bytes.as_slice(), "{} round-trips", original.filename);
    }
}

#[tokio::test]
async fn email_links_the_files_when_they_exceed_the_size_cap() {
    let mut server = smtp_server(RCPT_OK).await;
    let input = rich_input();
    let settings = Settings { email_max_bytes: 1024, ..settings_for(&server) };
    let (out, _) = run(&email_dest(), &input, &settings).await;
    assert_eq!(out.status, DeliveryStatus::Delivered);
    let raw = server.messages.try_recv().unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.attachment_count(), 0);
    let text = msg.body_text(0).unwrap();
    let html = msg.body_html(0).unwrap();
    let sentence = "The files are larger than the 1 KB email limit, so they are linked instead";
    assert!(text.contains(sentence), "{text}");
    assert!(html.contains(sentence), "{html}");
    for a in &input.artifacts {
        assert!(text.contains(&a.download_url), "{text}");
        assert!(html.contains(&text::escape_html(&a.download_url)), "{html}");
        assert!(text.contains(&a.filename));
    }
}

#[tokio::test]
async fn email_without_an_smtp_url_fails_with_the_configuration_message() {
    let (out, seen) = run(&email_dest(), &sample_input(), &fast()).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 1));
    assert_eq!(out.error.as_deref(), Some(NOT_CONFIGURED));
    assert_eq!(NOT_CONFIGURED, "email is not configured: set NARRATE_SMTP_URL");
    assert_eq!(seen.len(), 1);
}

#[tokio::test]
async fn a_permanent_smtp_rejection_is_not_retried() {
    let server = smtp_server("550 5.1.1 No such user here\r\n").await;
    let (out, seen) = run(&email_dest(), &sample_input(), &settings_for(&server)).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 1));
    let error = out.error.unwrap();
    assert!(error.contains("550") && error.contains("No such user"), "{error}");
    assert_eq!(server.sessions.load(Ordering::SeqCst), 1);
    assert_eq!(seen[0].result, "failed");
}

#[tokio::test]
async fn a_transient_smtp_rejection_is_retried() {
    let server = smtp_server("451 4.3.0 Try again later\r\n").await;
    let settings = Settings { max_attempts: 2, ..settings_for(&server) };
    let (out, seen) = run(&email_dest(), &sample_input(), &settings).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 2));
    assert!(out.error.unwrap().contains("451"));
    assert_eq!(server.sessions.load(Ordering::SeqCst), 2);
    assert_eq!(seen.iter().map(|r| r.result.as_str()).collect::<Vec<_>>(), vec!["retry", "failed"]);
}

#[tokio::test]
async fn an_invalid_address_fails_before_connecting() {
    let server = smtp_server(RCPT_OK).await;
    let dest =
        Destination::Email { from: "reports@example.com".into(), to: vec!["not an address".into()], reply_to: None };
    let (out, _) = run(&dest, &sample_input(), &settings_for(&server)).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 1));
    assert_eq!(out.error.as_deref(), Some("the recipient address \"not an address\" is not valid"));
    assert_eq!(server.sessions.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn smtp_errors_never_contain_the_smtp_url_or_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let smtp_url = format!("smtp://narrate:pa55-w0rd-secret@127.0.0.1:{port}");
    let settings = Settings { smtp_url: Some(smtp_url.clone()), max_attempts: 2, ..fast() };
    let (out, seen) = run(&email_dest(), &sample_input(), &settings).await;
    assert_eq!((out.status, out.attempts), (DeliveryStatus::Failed, 2));
    let error = out.error.unwrap();
    assert!(error.contains("could not deliver to the SMTP server"), "{error}");
    for e in seen.iter().filter_map(|r| r.error.as_deref()).chain([error.as_str()]) {
        assert!(!e.contains("pa55-w0rd-secret") && !e.contains(&smtp_url), "{e}");
    }
}

#[tokio::test]
async fn with_an_operator_sender_a_tenants_address_goes_to_reply_to_unless_its_domain_is_allowed() {
    let mut server = smtp_server(RCPT_OK).await;
    let spoof = Destination::Email {
        from: "CEO <ceo@bank.example>".into(),
        to: vec!["ops@example.com".into()],
        reply_to: None,
    };
    let mut settings = settings_for(&server);
    settings.smtp_from = Some("Narrate <reports@narrate.example>".into());
    settings.allowed_from_domains = vec!["example.com".into()];
    let (out, _) = run(&spoof, &sample_input(), &settings).await;
    assert_eq!(out.status, DeliveryStatus::Delivered, "{:?}", out.error);
    let raw = server.messages.try_recv().unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.from().unwrap().first().unwrap().address(), Some("reports@narrate.example"), "the operator sends");
    assert_eq!(
        msg.reply_to().unwrap().first().unwrap().address(),
        Some("ceo@bank.example"),
        "the tenant is replied to"
    );
    // An address at an allowed domain sends as itself.
    let (out, _) = run(&email_dest(), &sample_input(), &settings).await;
    assert_eq!(out.status, DeliveryStatus::Delivered);
    let raw = server.messages.try_recv().unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.from().unwrap().first().unwrap().address(), Some("reports@example.com"));
    assert_eq!(msg.reply_to().unwrap().first().unwrap().address(), Some("team@example.com"));
}

#[tokio::test]
async fn the_email_body_is_the_report_with_key_figures_and_every_chart_inline_as_png() {
    use crate::model::{Cell, Chart, ChartKind, Column, ColumnKind, KpiLine, Table};
    let mut server = smtp_server(RCPT_OK).await;
    let mut trend = Table::new(
        "revenue_trend",
        "Revenue trend",
        vec![Column::new("day", "Day", ColumnKind::Date), Column::new("revenue", "Revenue", ColumnKind::Money)],
    );
    for i in 0..14 {
        trend.push(vec![Cell::from(format!("2026-11-{:02}", i + 1)), Cell::Num(1000.0 + f64::from(i) * 37.0)]);
    }
    trend.chart = Some(Chart::new(ChartKind::Line, "day", &["revenue"]));
    let mut offers = Table::new(
        "offers",
        "Offers <b>served</b>",
        vec![Column::new("name", "Offer", ColumnKind::Text), Column::new("n", "Impressions", ColumnKind::Integer)],
    );
    for (name, n) in [("Cashback Bonus", 900), ("Platinum Card", 700), ("Savings Boost", 300)] {
        offers.push(vec![Cell::from(name), Cell::Int(n)]);
    }
    offers.chart = Some(Chart::new(ChartKind::Bar, "name", &["n"]));
    let mut input = rich_input();
    input.charts = crate::engine::render::png::charts(&[trend, offers]);
    assert_eq!(input.charts.len(), 2, "both charts drawn");
    input.kpis = vec![KpiLine {
        label: "Revenue".into(),
        value: "$98,765.00".into(),
        previous: "$90,000.00".into(),
        delta: "+9.7 %".into(),
        chip: "green".into(),
        spark: vec![],
    }];
    let (out, _) = run(&email_dest(), &input, &settings_for(&server)).await;
    assert_eq!(out.status, DeliveryStatus::Delivered, "{:?}", out.error);
    let raw = server.messages.try_recv().unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap();
    assert!(!html.contains("<script") && !html.contains("<svg"), "no script, no SVG in a mail body");
    assert!(
        html.contains(">Revenue</td>") && html.contains("$98,765.00") && html.contains("+9.7 %"),
        "the key figures: {html}"
    );
    assert!(html.contains("Offers &lt;b&gt;served&lt;/b&gt;"), "chart titles are escaped");
    for (i, c) in input.charts.iter().enumerate() {
        let cid = super::email::content_id(&input, i);
        assert!(html.contains(&format!("src=\"cid:{cid}\"")), "the body shows chart {i}");
        let part = msg.parts.iter().find(|p| p.content_id() == Some(cid.as_str())).expect("an inline part per chart");
        let ct = part.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("image", Some("png")));
        let png = part.contents();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "chart {i} decodes as PNG");
        let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!(c.width, 600, "drawn at the mail body's width");
        assert_eq!(
            (dim(16), dim(20)),
            (c.width * 2, c.height * 2),
            "chart {i} is twice its CSS size, for sharp screens"
        );
        assert!(c.height > 100, "a chart, not a sliver");
    }
    // The files are still attached, besides the inline charts.
    let files: Vec<_> = msg.attachments().filter(|p| p.content_id().is_none()).collect();
    assert_eq!(files.len(), input.artifacts.len());
}
