//! `POST /api/v1/reports/preview`: one-off exports of exactly what is on screen.

use crate::common;

use app::model::Role;
use common::{TestApp, NOW};
use serde_json::{json, Value};

async fn demo(app: &TestApp) -> (common::Tenant, reqwest::Client) {
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 3, 0.05, NOW).await.unwrap();
    let c = app.client_as(&t, Role::Viewer).await;
    (t, c)
}

db_test!(every_format_downloads_with_its_type_and_file_name, |app| {
    let (_, c) = demo(&app).await;
    for (format, ctype, ext) in [
        ("pdf", "application/pdf", "pdf"),
        ("csv", "text/csv; charset=utf-8", "csv"),
        ("md", "text/markdown; charset=utf-8", "md"),
        ("html", "text/html; charset=utf-8", "html"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ] {
        let r = c
            .post(app.url("/api/v1/reports/preview"))
            .json(&json!({"dashboard": "executive", "format": format, "period": "7d", "segmentId": null, "narrative": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{format}");
        assert_eq!(r.headers()["content-type"], ctype);
        assert_eq!(
            r.headers()["content-disposition"],
            format!("attachment; filename=\"executive-7d-2026-11-30.{ext}\"")
        );
        let bytes = r.bytes().await.unwrap();
        match format {
            "pdf" => assert!(bytes.starts_with(b"%PDF")),
            "csv" => assert!(bytes.starts_with(b"section,label,value,previous,delta_pct\r\n")),
            "md" => assert!(std::str::from_utf8(&bytes).unwrap().starts_with("# Executive report")),
            "xlsx" => assert!(bytes.starts_with(b"PK\x03\x04"), "a zip container"),
            _ => assert!(std::str::from_utf8(&bytes).unwrap().contains("<h1>Executive report</h1>")),
        }
    }
});

/// Every sheet of the workbook against the CSV of the same report, cell by cell: the same rows in
/// the same order, numbers equal (percentages as fractions), days and instants as dates in the
/// report's zone, text verbatim (the CSV's formula guard aside), empty where the CSV is empty.
fn assert_workbook_equals_csv(report: &app::model::Report, xlsx: &[u8], csv: &[u8]) {
    use app::model::ColumnKind;
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let names = wb.sheet_names().to_vec();
    assert_eq!(names.len(), report.sections.len() + 1, "a Summary and one sheet per section");
    assert_eq!(names[0], "Summary");
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv);
    let records: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let tz: chrono_tz::Tz = report.timezone.parse().unwrap();
    let mut at = 0;
    for (t, name) in report.sections.iter().zip(&names[1..]) {
        let range = wb.worksheet_range(name).unwrap();
        let cell = |r: usize, c: usize| range.get_value((r as u32, c as u32)).cloned().unwrap_or(Data::Empty);
        let shown: Vec<_> = app::model::table::shown_columns(t).collect();
        assert_eq!(&records[at][0], "section", "{name}: the CSV's header row");
        for (c, (_, col)) in shown.iter().enumerate() {
            assert_eq!(&records[at][c + 1], col.key.as_str());
            let Data::String(h) = cell(0, c) else { panic!("{name}: header {c} is text") };
            assert!(h.starts_with(&col.label), "{name}: header {h:?} is the label {:?}", col.label);
        }
        at += 1;
        let mut n = 0;
        while at < records.len() && &records[at][0] != "section" {
            let rec = &records[at];
            assert_eq!(&rec[0], t.source.as_str());
            for (c, (j, col)) in shown.iter().enumerate() {
                let (want, got) = (&rec[c + 1], cell(n + 1, c));
                let percent = col.kind == ColumnKind::Percent
                    || (matches!(col.key.as_str(), "value" | "previous" | "current" | "baseline")
                        && t.cell(n, "format").map(|f| f.as_text()) == Some("percent".into()));
                match got {
                    Data::Empty => assert_eq!(want, "", "{name} r{n} {}: empty only where the CSV is", col.key),
                    Data::Float(_) | Data::Int(_) => {
                        let raw = match got {
                            Data::Float(f) => f,
                            Data::Int(i) => i as f64,
                            _ => unreachable!(),
                        };
                        let v = raw * if percent { 100.0 } else { 1.0 };
                        let w: f64 =
                            want.parse().unwrap_or_else(|_| panic!("{name} r{n} {}: {want:?} is a number", col.key));
                        assert!((v - w).abs() <= 1e-9 * w.abs().max(1.0), "{name} r{n} {}: {v} vs {w}", col.key);
                    }
                    Data::DateTime(d) => {
                        let shown = d.as_datetime().unwrap();
                        let expected = match col.kind {
                            ColumnKind::Date => chrono::NaiveDate::parse_from_str(want, "%Y-%m-%d")
                                .unwrap()
                                .and_hms_opt(0, 0, 0)
                                .unwrap(),
                            _ => chrono::DateTime::parse_from_rfc3339(want).unwrap().with_timezone(&tz).naive_local(),
                        };
                        let off = (shown - expected).num_milliseconds().abs();
                        assert!(off <= 1, "{name} r{n} {}: {shown} vs {expected}", col.key);
                    }
                    Data::String(s) => {
                        let plain = want
                            .strip_prefix('\'')
                            .filter(|p| p.starts_with(['=', '+', '-', '@', '\t', '\r']))
                            .unwrap_or(want);
                        assert_eq!(s, plain, "{name} r{n} {}", col.key);
                    }
                    other => panic!("{name} r{n} {}: unexpected {other:?} (column {j})", col.key),
                }
            }
            at += 1;
            n += 1;
        }
        assert_eq!(n, t.rows.len(), "{name}: every row");
        if n == 0 {
            assert_eq!(cell(1, 0), Data::String("No data for this period.".into()));
        } else {
            assert_eq!(range.end().map(|e| e.0 as usize), Some(n), "{name}: no extra rows");
        }
    }
    assert_eq!(at, records.len());
}

db_test!(every_dashboards_workbook_equals_its_csv_cell_by_cell, |app| {
    let (t, _) = demo(&app).await;
    for d in app::model::Dashboard::ALL {
        let report = common::narrated_report(&app, &t.id, d.key(), "30d").await;
        let csv = app::engine::render::render(&report, app::engine::render::ReportFormat::Csv).unwrap();
        let xlsx = app::engine::render::render(&report, app::engine::render::ReportFormat::Xlsx).unwrap();
        assert_workbook_equals_csv(&report, &xlsx, &csv);
    }
});

db_test!(the_export_equals_the_screen, |app| {
    let (_, c) = demo(&app).await;
    let screen: Value =
        c.get(app.url("/api/v1/dashboards/business?period=30d")).send().await.unwrap().json().await.unwrap();
    let csv = c
        .post(app.url("/api/v1/reports/preview"))
        .json(&json!({"dashboard": "business", "format": "csv", "period": "30d"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let headers = rows.iter().filter(|r| &r[0] == "section").count();
    assert_eq!(headers, screen["widgets"].as_array().unwrap().len(), "one header row per section");
    for w in screen["widgets"].as_array().unwrap() {
        let t = &w["table"];
        let n = rows.iter().filter(|r| &r[0] == t["source"].as_str().unwrap()).count();
        assert_eq!(n, t["rows"].as_array().unwrap().len(), "{}: every row of the screen", t["source"]);
    }
});

db_test!(bad_input_is_refused_with_the_envelope_and_other_tenants_segments_are_404, |app| {
    let (_, c) = demo(&app).await;
    for (body, field) in [
        (json!({"dashboard": "sales", "format": "pdf"}), "dashboard"),
        (json!({"dashboard": "executive", "format": "docx"}), "format"),
        (json!({"dashboard": "executive", "format": "pdf", "period": "1y"}), "period"),
    ] {
        let r = c.post(app.url("/api/v1/reports/preview")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["details"][0]["field"], field);
    }
    let other = app.tenant("other").await;
    app::engine::catalogue::create_segment(
        &app.state.db,
        &other.id,
        serde_json::from_value(json!({"key": "x", "name": "X"})).unwrap(),
        NOW,
    )
    .await
    .unwrap();
    let seg = app::engine::store::catalogue::list_segments(&app.state.db, &other.id).await.unwrap()[0].id.clone();
    let r = c
        .post(app.url("/api/v1/reports/preview"))
        .json(&json!({"dashboard": "business", "format": "csv", "segmentId": seg}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let audit: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(&app.state.db.pool).await.unwrap(),
        0,
    );
    assert_eq!(audit, 0, "nothing is persisted by an export");
    assert_eq!(
        app.plain()
            .post(app.url("/api/v1/reports/preview"))
            .json(&json!({"dashboard": "executive", "format": "pdf"}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
});

/// Text of a PDF, without whitespace (extraction splits runs arbitrarily).
fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text_chunks(&pages)
        .into_iter()
        .filter_map(Result::ok)
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

db_test!(no_document_shows_an_internal_key_or_a_float_where_an_integer_is_meant, |app| {
    use app::engine::render::{csv::render_csv, html::render_html, markdown::render_markdown, pdf::render_pdf};
    use app::model::{Cell, Dashboard, Period};
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, 3, 0.05, NOW).await.unwrap();
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    for d in Dashboard::ALL {
        for p in Period::ALL {
            let r = common::narrated_report(&app, &t.id, d.key(), p.key()).await;
            let html = render_html(&r);
            let md = render_markdown(&r);
            let csv = String::from_utf8(render_csv(&r).unwrap()).unwrap();
            let pdf = pdf_text(&render_pdf(&r).unwrap());
            let at = format!("{} {}", d.key(), p.key());
            for table in &r.sections {
                for col in &table.columns {
                    let steers = matches!(col.key.as_str(), "chip" | "format") || col.label == "Metric key";
                    assert!(!steers || col.internal, "{at}: {}.{} is for drawing, so internal", table.source, col.key);
                }
                for (j, col) in table.columns.iter().enumerate().filter(|(_, c)| c.internal) {
                    assert!(!html.contains(&format!(">{}</th>", col.label)), "{at}: HTML heads a column {}", col.key);
                    assert!(!md.contains(&format!("| {} |", col.label)), "{at}: Markdown heads a column {}", col.key);
                    for row in &table.rows {
                        // Machine keys (`active_offers`) appear nowhere; a format or chip name
                        // never as a cell.
                        let Some(Cell::Text(v)) = row.get(j) else { continue };
                        // CSV heads its columns with their stable keys; its cells hold no internal value.
                        let csv_cell =
                            |line: &str| !line.starts_with("section,") && line.split(',').skip(1).any(|c| c == v);
                        assert!(!csv.lines().any(csv_cell), "{at}: CSV has a cell {v}");
                        if v.contains('_') {
                            for (doc, text) in [("HTML", &html), ("Markdown", &md), ("PDF", &pdf)] {
                                assert!(!text.contains(v.as_str()), "{at}: {doc} shows the key {v}");
                            }
                        } else {
                            assert!(!html.contains(&format!("<td>{v}</td>")), "{at}: HTML shows {v}");
                            assert!(!md.contains(&format!("| {v} |")), "{at}: Markdown shows {v}");
                        }
                    }
                }
                // A whole number is written as one: 11 offers, not 11.0.
                let (Some(_), Some(_)) = (table.col("format"), table.col("label")) else { continue };
                for i in 0..table.rows.len() {
                    if table.cell(i, "format") != Some(&Cell::from("integer")) {
                        continue;
                    }
                    let label = table.cell(i, "label").unwrap().as_text();
                    let shown = app::model::table::format_kpi(table.cell(i, "value").unwrap(), "integer");
                    assert!(!shown.contains('.'), "{at}: {label} = {shown}");
                    let cell = if table.col("chip").is_some() {
                        format!("<div class=\"kpi-label\">{label}</div><div class=\"kpi-value\">{shown}</div>")
                    } else {
                        format!("<td>{label}</td><td class=\"num\">{shown}</td>")
                    };
                    assert!(html.contains(&cell), "{at}: HTML shows {label} as {shown}");
                    let in_pdf = squash(&format!("{label}{shown}"));
                    assert!(
                        pdf.contains(&in_pdf) && !pdf.contains(&format!("{in_pdf}.0")),
                        "{at}: PDF shows {label} as {shown}"
                    );
                }
            }
        }
    }
});
