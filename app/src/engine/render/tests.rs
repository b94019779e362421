//! Renderer tests: every artifact is parsed back and compared with the report it came from, and
//! hostile text renders safely in every format.

use super::{csv::render_csv, html::render_html, markdown::render_markdown, pdf::render_pdf};
use crate::model::{Cell, Chart, ChartKind, Column, ColumnKind, Dashboard, KpiLine, Narrative, Period, Report, Table};

pub(crate) const HOSTILE: [&str; 9] = [
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "#set page(width: 1pt)",
    "a|b",
    "line\nbreak",
    "📈 emoji",
    "שלום עולם",
    "[link](http://evil.example)",
    "-2+3",
];

pub(crate) fn report(rows: usize) -> Report {
    let mut offers = Table::new(
        "offer_performance",
        "Offer performance",
        vec![
            Column::new("name", "Offer", ColumnKind::Text),
            Column::new("impressions", "Impressions", ColumnKind::Integer),
            Column::new("conversion_rate", "Conversion rate", ColumnKind::Percent),
            Column::new("revenue", "Revenue", ColumnKind::Money),
        ],
    );
    for i in 0..rows {
        offers.push(vec![
            Cell::from(format!("row-{i:03}")),
            Cell::Int(1000 + i as i64),
            Cell::Num(1.5 + i as f64 / 100.0),
            Cell::Num(1234.5 * i as f64),
        ]);
    }
    let mut hostile = Table::new(
        "hostile",
        "Hostile <names> | #set",
        vec![Column::new("name", "Name", ColumnKind::Text), Column::new("n", "N", ColumnKind::Integer)],
    );
    for (i, h) in HOSTILE.iter().enumerate() {
        hostile.push(vec![Cell::from(*h), Cell::Int(i as i64)]);
    }
    let mut trend = Table::new(
        "revenue_trend",
        "Revenue trend",
        vec![Column::new("day", "Day", ColumnKind::Date), Column::new("revenue", "Revenue", ColumnKind::Money)],
    );
    trend.push(vec![Cell::from("2026-11-29"), Cell::Num(10.0)]);
    trend.push(vec![Cell::from("2026-11-30"), Cell::Null]);
    trend.chart = Some(Chart::new(ChartKind::Line, "day", &["revenue"]));
    Report {
        title: "Executive report".into(),
        dashboard: Dashboard::Executive,
        tenant: "Acme <b>Corp</b>".into(),
        period: Period::D30,
        from: "2026-11-01".into(),
        to: "2026-11-30".into(),
        timezone: "UTC".into(),
        segment: Some("High value".into()),
        generated_at: "2026-11-30T12:00:00Z".into(),
        narrative: Some(Narrative {
            executive_summary: "Revenue rose to $98,765.00 while <script> stayed out.".into(),
            sections: vec![],
            key_takeaways: vec!["First | takeaway".into(), "Second *takeaway*".into(), "Third".into()],
            provider: "builtin".into(),
            model: None,
            fallback: false,
            fallback_reason: None,
        }),
        kpis: vec![KpiLine {
            label: "Revenue".into(),
            value: "$98,765.00".into(),
            previous: "$90,000.00".into(),
            delta: "+9.7 %".into(),
            chip: "green".into(),
            spark: vec![1.0, 2.0, 1.5],
        }],
        sections: vec![offers, hostile, trend],
        page: Default::default(),
    }
}

#[test]
fn csv_parses_back_to_exactly_the_source_tables() {
    let r = report(40);
    let bytes = render_csv(&r).unwrap();
    let mut rd = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
    let records: Vec<::csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let mut i = 0;
    for t in &r.sections {
        let header: Vec<&str> = records[i].iter().collect();
        let mut expected = vec!["section"];
        expected.extend(t.columns.iter().map(|c| c.key.as_str()));
        assert_eq!(header, expected);
        i += 1;
        for row in &t.rows {
            let rec = &records[i];
            assert_eq!(&rec[0], t.source);
            for (j, cell) in row.iter().enumerate() {
                let got = &rec[j + 1];
                match cell {
                    Cell::Int(v) => assert_eq!(got.parse::<i64>().unwrap(), *v),
                    Cell::Num(v) => assert_eq!(got.parse::<f64>().unwrap(), *v),
                    Cell::Null => assert_eq!(got, ""),
                    Cell::Text(s) => assert_eq!(got.trim_start_matches('\''), s.as_str()),
                }
            }
            i += 1;
        }
    }
    assert_eq!(i, records.len(), "no extra rows");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("'=HYPERLINK"), "formula neutralised");
    assert!(text.contains("'-2+3"));
    assert!(!text.contains("1,234"), "numbers are not formatted");
}

#[test]
fn markdown_parses_into_the_expected_tables() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let r = report(5);
    let md = render_markdown(&r);
    let mut tables: Vec<Vec<Vec<String>>> = Vec::new();
    let (mut row, mut cell, mut in_cell) = (Vec::new(), String::new(), false);
    let mut headings = Vec::new();
    let mut in_heading = false;
    let mut links = 0;
    for ev in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Table(_)) => tables.push(Vec::new()),
            Event::Start(Tag::TableCell) => {
                in_cell = true;
                cell.clear();
            }
            Event::End(TagEnd::TableCell) => {
                in_cell = false;
                row.push(cell.clone());
            }
            Event::End(TagEnd::TableRow) | Event::End(TagEnd::TableHead) => {
                tables.last_mut().unwrap().push(std::mem::take(&mut row))
            }
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Start(Tag::Link { .. }) => links += 1,
            Event::Html(_) | Event::InlineHtml(_) => panic!("raw HTML leaked into the Markdown"),
            Event::Text(t) if in_cell => cell.push_str(&t),
            Event::Text(t) if in_heading => headings.push(t.to_string()),
            _ => {}
        }
    }
    assert_eq!(links, 0, "no text became a link");
    assert_eq!(headings.first().map(String::as_str), Some("Executive report"));
    assert!(headings.iter().any(|h| h == "Key takeaways"));
    assert_eq!(tables.len(), 4, "KPI table and three sections");
    assert_eq!(tables[0][1], vec!["Revenue", "$98,765.00", "$90,000.00", "+9.7 %"]);
    assert_eq!(tables[1].len(), 6, "header and five rows");
    assert_eq!(tables[1][3], vec!["row-002", "1,002", "1.5 %", "$2,469.00"]);
    let names: Vec<&str> = tables[2][1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names[0], "<script>alert(1)</script>");
    assert_eq!(names[3], "a|b", "a pipe stays inside its cell");
    assert_eq!(names[4], "line break");
    assert!(md.contains("- First \\| takeaway"));
}

#[test]
fn html_is_self_contained_with_no_script_or_external_url() {
    let r = report(5);
    let html = render_html(&r);
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(doc.select(&sel("script")).count(), 0);
    let external: Vec<String> =
        doc.select(&sel("[src], [href], link, iframe, object, embed, img")).map(|e| e.html()).collect();
    assert!(external.is_empty(), "external references: {external:?}");
    assert!(!html.contains("url(http") && !html.contains("@import"), "no external requests from CSS");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let cells: Vec<String> = doc.select(&sel("table td")).map(|c| c.text().collect()).collect();
    assert!(cells.contains(&"<script>alert(1)</script>".to_string()), "escaped text reads back literally");
    assert!(cells.contains(&"row-004".to_string()));
    assert_eq!(doc.select(&sel("svg[role=img]")).count(), 1, "the chart is inline SVG");
    assert_eq!(doc.select(&sel("style")).count(), 1, "inline CSS");
    let title: String = doc.select(&sel("h1")).next().unwrap().text().collect();
    assert_eq!(title, "Executive report");
}

#[test]
fn hostile_text_renders_safely_in_every_format() {
    let r = report(3);
    let csv = String::from_utf8(render_csv(&r).unwrap()).unwrap();
    for line in csv.lines() {
        for field in line.split(',') {
            let f = field.trim_matches('"');
            assert!(!f.starts_with('=') && !f.starts_with('@') && !f.starts_with('+'), "{f}");
        }
    }
    let md = render_markdown(&r);
    let raw_lines: Vec<&str> =
        md.lines().filter(|l| l.contains("<script>") || l.contains("](http") && !l.contains("\\](http")).collect();
    assert!(raw_lines.is_empty(), "unescaped markup: {raw_lines:?}");
    let html = render_html(&r);
    assert!(!html.contains("<script>") && !html.contains("<b>Corp"));
    let pdf = render_pdf(&r).expect("hostile text must not break the PDF");
    assert!(pdf.starts_with(b"%PDF"));
    let xlsx = super::xlsx::render_xlsx(&r).expect("hostile text must not break the workbook");
    assert!(xlsx.starts_with(b"PK"));
}

/// A PDF's text without whitespace (extraction splits runs arbitrarily).
fn squashed_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text_chunks(&pages)
        .into_iter()
        .filter_map(Result::ok)
        .flat_map(|t| t.chars().collect::<Vec<_>>())
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// An anomalies-like table: figures, then a sentence of explanation per row.
fn explained(rows: usize) -> Report {
    let mut t = Table::new(
        "anomalies",
        "Anomalies",
        vec![
            Column::new("severity", "Severity", ColumnKind::Text),
            Column::new("z_score", "z-score", ColumnKind::Number),
            Column::new("explanation", "Explanation", ColumnKind::Text),
        ],
    );
    for i in 0..rows {
        t.push(vec![
            Cell::from("warning"),
            Cell::Num(3.0 + i as f64 / 10.0),
            Cell::from(format!("Explanation {i}: acceptance fell from 8.1 % to 4.2 % over four days while every other offer held steady; check the offer's targeting and budget.")),
        ]);
    }
    let mut r = report(0);
    r.sections = vec![t];
    r
}

#[test]
fn long_text_is_a_full_width_line_under_its_row_not_a_narrow_column() {
    let r = explained(12);
    let html = render_html(&r);
    assert!(!html.contains(">Explanation</th>"), "no column for it");
    assert_eq!(html.matches("<tr class=\"detail\"><td colspan=\"2\">Explanation ").count(), 12);
    let pdf = render_pdf(&r).unwrap();
    let squashed = squashed_text(&pdf);
    assert!(!squashed.contains("z-scoreExplanation"), "no column head for it");
    // Each explanation follows its own figures, whole (one line, not a word or two per line).
    for i in 0..12 {
        let figures = format!("warning{:.3}", 3.0 + i as f64 / 10.0);
        let at = squashed.find(&figures).unwrap_or_else(|| panic!("row {i}'s figures"));
        assert!(
            squashed[at..].starts_with(&format!("{figures}Explanation{i}:")),
            "row {i}: {}",
            &squashed[at..at + 60]
        );
    }
    assert_eq!(lopdf::Document::load_mem(&pdf).unwrap().get_pages().len(), 1, "twelve explained rows fit one page");
}

#[test]
fn a_long_table_under_a_chart_goes_to_the_appendix_in_full() {
    let mut daily = Table::new(
        "revenue_trend",
        "Revenue trend",
        vec![Column::new("day", "Day", ColumnKind::Date), Column::new("revenue", "Revenue", ColumnKind::Money)],
    );
    for d in 0..90 {
        daily.push(vec![Cell::from(format!("2026-09-{:02}", d % 30 + 1)), Cell::Num(100.0 + d as f64)]);
    }
    daily.chart = Some(Chart::new(ChartKind::Line, "day", &["revenue"]));
    let mut r = report(3);
    r.sections = vec![daily, r.sections[0].clone()];
    let html = render_html(&r);
    let (body, appendix) = html.split_once("<h2>Appendix</h2>").expect("an appendix");
    assert!(body.contains("The 90 rows of this table are in the appendix."));
    assert!(!body.contains(">$189.00</td>"), "the long table is not beside its chart");
    assert!(appendix.contains(">$189.00</td>") && appendix.contains("<h3>Revenue trend</h3>"));
    assert!(!appendix.contains("Offer performance"), "a short table stays in its section");
    let pdf = render_pdf(&r).unwrap();
    let squashed = squashed_text(&pdf);
    let at = squashed.find("Appendix").expect("the PDF has an appendix");
    assert!(squashed[..at].contains("The90rowsofthistableareintheappendix."));
    assert!(squashed[at..].contains("$189.00") && !squashed[..at].contains("$189.00"));
}

/// A workbook's sheets as calamine reads them: (name, rows of cells).
pub(crate) fn read_workbook(bytes: &[u8]) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).unwrap();
            // Rows from A1, even when the first rows or columns are empty.
            let rows = (0..range.end().map_or(0, |e| e.0 + 1))
                .map(|r| {
                    (0..range.end().map_or(0, |e| e.1 + 1))
                        .map(|c| range.get_value((r, c)).cloned().unwrap_or(calamine::Data::Empty))
                        .collect()
                })
                .collect();
            (n, rows)
        })
        .collect()
}

#[test]
fn xlsx_reads_back_typed_cell_by_cell_with_a_summary_first() {
    use calamine::{Data, DataType as _};
    let r = report(40);
    let bytes = super::xlsx::render_xlsx(&r).unwrap();
    let sheets = read_workbook(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Summary", "Offer performance", "Hostile <names> | #set", "Revenue trend"]);

    let summary = &sheets[0].1;
    assert_eq!(summary[0][0], Data::String("Executive report".into()));
    let find = |label: &str| summary.iter().find(|row| row[0] == Data::String(label.into())).cloned().unwrap();
    assert_eq!(find("Period")[1], Data::String("Last 30 days — 2026-11-01 to 2026-11-30 (UTC)".into()));
    assert_eq!(find("Segment")[1], Data::String("High value".into()));
    match &find("Generated")[1] {
        Data::DateTime(d) => assert_eq!(d.as_datetime().unwrap().to_string(), "2026-11-30 12:00:00"),
        other => panic!("the generation time is a date-time, not {other:?}"),
    }
    assert_eq!(find("Executive summary")[1], Data::String(r.narrative.as_ref().unwrap().executive_summary.clone()));
    let takeaways: Vec<&Data> = summary
        .iter()
        .skip_while(|row| row[0] != Data::String("Key takeaways".into()))
        .take(3)
        .map(|row| &row[1])
        .collect();
    assert_eq!(
        takeaways,
        [
            &Data::String("First | takeaway".into()),
            &Data::String("Second *takeaway*".into()),
            &Data::String("Third".into())
        ]
    );

    let offers = &sheets[1].1;
    assert_eq!(offers[0], ["Offer", "Impressions", "Conversion rate", "Revenue"].map(|h| Data::String(h.into())));
    assert_eq!(offers.len(), 41, "a header and every row");
    for (i, row) in offers[1..].iter().enumerate() {
        assert_eq!(row[0], Data::String(format!("row-{i:03}")));
        assert_eq!(row[1].as_f64(), Some(1000.0 + i as f64), "integers are numbers");
        assert!(
            (row[2].as_f64().unwrap() * 100.0 - (1.5 + i as f64 / 100.0)).abs() < 1e-9,
            "percent points become a fraction"
        );
        assert!((row[3].as_f64().unwrap() - 1234.5 * i as f64).abs() < 1e-9);
    }
    let hostile = &sheets[2].1;
    for (i, h) in HOSTILE.iter().enumerate() {
        assert_eq!(hostile[i + 1][0], Data::String((*h).into()), "text is kept verbatim, as a string, never a formula");
    }
    let trend = &sheets[3].1;
    match &trend[1][0] {
        Data::DateTime(d) => assert_eq!(d.as_datetime().unwrap().date().to_string(), "2026-11-29"),
        other => panic!("a day is a date, not {other:?}"),
    }
    assert_eq!(trend[2][1], Data::Empty, "a missing value is an empty cell, not 0");

    // The formats a person sees, the bold frozen header, and no formula anywhere.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let xml = |zip: &mut zip::ZipArchive<_>, name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let styles = xml(&mut zip, "xl/styles.xml");
    for f in ["0.0%", "$#,##0.00", "yyyy-mm-dd"] {
        assert!(styles.contains(&format!("formatCode=\"{f}\"")), "number format {f} in {styles}");
    }
    for i in 2..=4 {
        let sheet = xml(&mut zip, &format!("xl/worksheets/sheet{i}.xml"));
        assert!(
            sheet.contains("ySplit=\"1\"") && sheet.contains("state=\"frozen\""),
            "sheet {i}: the header row is frozen"
        );
        assert!(!sheet.contains("<f>"), "sheet {i}: no formulas");
    }
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(super::xlsx::render_xlsx(&r).unwrap())).unwrap();
    let style = calamine::Reader::worksheet_style(&mut wb, "Offer performance").unwrap();
    let bold = |r: u32, c: u32| style.get((r, c)).and_then(|s| s.font.as_ref()).is_some_and(|f| f.is_bold());
    assert!((0..4).all(|c| bold(0, c)), "the header row is bold");
    assert!(!bold(1, 0), "the rows are not");
}

#[test]
fn xlsx_states_instants_on_the_wall_clock_of_the_reports_zone() {
    use calamine::{Data, DataType as _};
    let mut r = report(1);
    r.timezone = "Europe/Paris".into();
    let mut runs = Table::new(
        "runs",
        "Pipeline runs",
        vec![
            Column::new("started_at", "Started", ColumnKind::Timestamp),
            Column::new("duration", "Took", ColumnKind::Duration),
        ],
    );
    runs.push(vec![Cell::from("2026-07-01T06:30:00Z"), Cell::Num(1799.24)]);
    r.sections = vec![runs];
    let sheets = read_workbook(&super::xlsx::render_xlsx(&r).unwrap());
    let t = &sheets[1].1;
    assert_eq!(t[0], [Data::String("Started (Europe/Paris)".into()), Data::String("Took (ms)".into())]);
    match &t[1][0] {
        Data::DateTime(d) => assert_eq!(d.as_datetime().unwrap().to_string(), "2026-07-01 08:30:00", "CEST is UTC+2"),
        other => panic!("an instant is a date-time, not {other:?}"),
    }
    assert_eq!(t[1][1].as_f64(), Some(1799.24));
}

#[test]
fn page_setup_sizes_every_pdf_page_and_the_printed_html() {
    use crate::model::{Orientation, PageSetup, PaperSize};
    // (setup, width × height in PostScript points)
    let cases = [
        (PageSetup::default(), (595.0, 842.0)),
        (PageSetup { size: PaperSize::A4, orientation: Orientation::Landscape }, (842.0, 595.0)),
        (PageSetup { size: PaperSize::Letter, orientation: Orientation::Portrait }, (612.0, 792.0)),
        (PageSetup { size: PaperSize::Letter, orientation: Orientation::Landscape }, (792.0, 612.0)),
    ];
    for (page, (w, h)) in cases {
        let mut r = report(60);
        r.page = page;
        let pdf = render_pdf(&r).unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert!(doc.get_pages().len() > 1, "{page:?}: several pages");
        for (n, id) in doc.get_pages() {
            let mb =
                doc.get_object(id).unwrap().as_dict().unwrap().get(b"MediaBox").unwrap().as_array().unwrap().clone();
            let num =
                |o: &lopdf::Object| o.as_float().map(f64::from).or_else(|_| o.as_i64().map(|i| i as f64)).unwrap();
            let (pw, ph) = (num(&mb[2]) - num(&mb[0]), num(&mb[3]) - num(&mb[1]));
            assert!((pw - w).abs() < 1.0 && (ph - h).abs() < 1.0, "{page:?} page {n}: {pw} × {ph}, want {w} × {h}");
        }
        let html = render_html(&r);
        assert!(html.contains(&format!("@page{{size:{};", page.css_size())), "{page:?}: print CSS");
    }
}
