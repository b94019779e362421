//! Native PDF rendering of a [`Report`] with Typst used as a library: no browser, no network and
//! no file system at render time.
//!
//! Each call builds a small in-memory Typst world: the bundled fonts (parsed once per process),
//! one generated main source and one virtual SVG file per chart (`/chart-N.svg`, the very SVG the
//! dashboard shows). The main source is the layout template `report.typ` preceded by a generated
//! `#let data = (...)` binding in which every piece of text from the report is a Typst *string
//! literal* (see [`typst_str`]); the template only passes those strings to functions, so data
//! can never be read as markup, math or code. After each render, Typst's memoisation caches are
//! trimmed so memory stays flat over thousands of renders.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::model::chart::{render_svg, sparkline_svg};
use crate::model::table::{detail_column, display_cell, shown_columns};
use crate::model::{ColumnKind, Report, Table};

/// The layout template; the generated `#let data = (...)` binding is put in front of it.
const TEMPLATE: &str = include_str!("report.typ");

/// How many `comemo::evict` rounds an unused memoised result survives: one. What every render uses
/// (the template's evaluation, fonts, the library) stays memoised; what only the last report used
/// goes at the next render. Measured on a running server over 1 000 PDF exports
/// (`scripts/server-rss.sh`, BENCHMARKS.md): 10 rounds held about 70 MiB more than one; none held a
/// little less than one but made every render start cold (the render bench's Executive PDF: 3.8 ms
/// with one round, 31.8 ms with none).
const CACHE_MAX_AGE: usize = 1;

/// Longest diagnostic text carried in a [`PdfError`].
const MAX_MESSAGE_CHARS: usize = 300;

/// Why a report could not be turned into a PDF. The message names no report data beyond what
/// Typst says about the generated source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// Typst could not lay the document out (the message is Typst's first error).
    #[error("PDF layout failed: {0}")]
    Layout(String),
    /// Typst laid the document out but could not write it as PDF.
    #[error("PDF export failed: {0}")]
    Export(String),
    /// A virtual file path could not be formed (never expected).
    #[error("PDF renderer setup failed: {0}")]
    Setup(String),
}

/// What every render shares and what is expensive to make: the standard library, the parsed
/// fonts and their font book. Built on first use, then kept for the life of the process.
struct Assets {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
    let book = FontBook::from_fonts(&fonts);
    Assets { library: LazyHash::new(<Library as LibraryExt>::default()), book: LazyHash::new(book), fonts }
});

/// The in-memory world of one render: the generated main source and the chart SVGs.
struct ReportWorld {
    main: Source,
    files: Vec<(FileId, Bytes)>,
    today: Option<Datetime>,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &ASSETS.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &ASSETS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_owned()));
        }
        self.files.iter().find(|(file, _)| *file == id).map(|(_, bytes)| bytes.clone()).ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        ASSETS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(id.vpath().get_with_slash()))
}

/// A file id in the project root. Paths are fixed (`/main.typ`, `/chart-N.svg`), so the global
/// file-id interner only ever holds a handful of them however many reports are rendered.
fn virtual_file(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|e| PdfError::Setup(format!("virtual path {path}: {e}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// Renders `report` as a PDF on its page setup (A4 portrait unless the template or export says
/// otherwise): title block, executive summary and key takeaways (when the
/// report has a narrative), the KPI table, then every section with its note, narrative
/// paragraph, chart (vector, the dashboard's SVG) and all of its rows. Long tables break across
/// pages with their header row repeated; every page is numbered "Page N of M".
pub fn render_pdf(report: &Report) -> Result<Vec<u8>, PdfError> {
    let result = compile(report);
    // Drop memoised results the last render did not use; keeps memory flat.
    typst::comemo::evict(CACHE_MAX_AGE);
    result
}

fn compile(report: &Report) -> Result<Vec<u8>, PdfError> {
    let mut files = Vec::new();
    let mut chart_paths = Vec::with_capacity(report.sections.len());
    for (i, table) in report.sections.iter().enumerate() {
        match &table.chart {
            Some(chart) => {
                let path = format!("/chart-{i}.svg");
                files.push((virtual_file(&path)?, Bytes::from_string(render_svg(table, chart))));
                chart_paths.push(Some(path));
            }
            None => chart_paths.push(None),
        }
    }

    // Each KPI tile's sparkline, drawn by the same code as the dashboard's.
    let mut spark_paths = Vec::with_capacity(report.kpis.len());
    for (i, kpi) in report.kpis.iter().enumerate() {
        if kpi.spark.len() < 2 {
            spark_paths.push(None);
            continue;
        }
        let path = format!("/spark-{i}.svg");
        files.push((virtual_file(&path)?, Bytes::from_string(sparkline_svg(&kpi.spark, "#2f5bea"))));
        spark_paths.push(Some(path));
    }
    let main = Source::new(virtual_file("/main.typ")?, build_source(report, &chart_paths, &spark_paths));
    let world = ReportWorld { main, files, today: date_of(&report.generated_at) };

    let document =
        typst::compile::<PagedDocument>(&world).output.map_err(|errors| PdfError::Layout(first_message(&errors)))?;
    typst_pdf::pdf(&document, &PdfOptions::default()).map_err(|errors| PdfError::Export(first_message(&errors)))
}

fn first_message(errors: &[SourceDiagnostic]) -> String {
    match errors.first() {
        Some(diagnostic) => diagnostic.message.chars().take(MAX_MESSAGE_CHARS).collect(),
        None => "unknown error".to_string(),
    }
}

/// The calendar day of an RFC 3339 instant (`2026-11-30T08:00:00Z` → 2026-11-30).
fn date_of(instant: &str) -> Option<Datetime> {
    let year = instant.get(0..4)?.parse().ok()?;
    let month = instant.get(5..7)?.parse().ok()?;
    let day = instant.get(8..10)?.parse().ok()?;
    Datetime::from_ymd(year, month, day)
}

/// Quotes `s` as a Typst string literal (code mode), including the surrounding quotes.
///
/// Backslashes and quotes are escaped, newlines, carriage returns and tabs become `\n`, `\r` and
/// `\t`, and every other control character (and the Unicode line and paragraph separators)
/// becomes `\u{…}`, so the literal always ends where the generator says it does and evaluates to
/// exactly `s`.
pub fn typst_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_str_literal(&mut out, s);
    out
}

fn push_str_literal(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str_literal(out, s),
        None => out.push_str("none"),
    }
}

/// Pushes `(a, b, )`: an array literal even with a single item, `()` when empty.
fn push_str_array<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('(');
    for item in items {
        push_str_literal(out, item);
        out.push_str(", ");
    }
    out.push(')');
}

/// Whether a column's values are numbers (right-aligned).
fn is_numeric(kind: ColumnKind) -> bool {
    !matches!(kind, ColumnKind::Text | ColumnKind::Date | ColumnKind::Timestamp)
}

/// The generated main source: `#let data = (...)` followed by the template.
fn build_source(report: &Report, chart_paths: &[Option<String>], spark_paths: &[Option<String>]) -> String {
    let rows: usize = report.sections.iter().map(|t| t.rows.len() * t.columns.len().max(1)).sum();
    let mut out = String::with_capacity(TEMPLATE.len() + 4096 + rows * 24);

    // The page setup comes from the generator (two closed enums), never from report text.
    out.push_str("#let data = (\n  paper: \"");
    out.push_str(report.page.typst_paper());
    out.push_str("\",\n  landscape: ");
    out.push_str(if report.page.landscape() { "true" } else { "false" });
    out.push_str(",\n  kicker: ");
    push_str_literal(&mut out, &format!("{} dashboard · {}", report.dashboard.title(), report.period.label()));
    out.push_str(",\n  title: ");
    push_str_literal(&mut out, &report.title);
    out.push_str(",\n  tenant: ");
    push_str_literal(&mut out, &report.tenant);
    out.push_str(",\n  period: ");
    push_str_literal(&mut out, &report.period_text());
    out.push_str(",\n  segment: ");
    push_opt_str(&mut out, report.segment.as_deref());
    out.push_str(",\n  generated: ");
    push_str_literal(&mut out, &report.generated_at);

    out.push_str(",\n  narrative: ");
    match &report.narrative {
        Some(narrative) => {
            out.push_str("(summary: ");
            push_str_literal(&mut out, &narrative.executive_summary);
            out.push_str(", takeaways: ");
            push_str_array(&mut out, narrative.key_takeaways.iter().map(String::as_str));
            out.push(')');
        }
        None => out.push_str("none"),
    }

    out.push_str(",\n  kpis: (\n");
    for (i, kpi) in report.kpis.iter().enumerate() {
        out.push_str("    (label: ");
        push_str_literal(&mut out, &kpi.label);
        out.push_str(", value: ");
        push_str_literal(&mut out, &kpi.value);
        out.push_str(", previous: ");
        push_str_literal(&mut out, &kpi.previous);
        out.push_str(", delta: ");
        push_str_literal(&mut out, &kpi.delta);
        out.push_str(", chip: ");
        push_str_literal(&mut out, &kpi.chip);
        out.push_str(", spark: ");
        push_opt_str(&mut out, spark_paths.get(i).and_then(|p| p.as_deref()));
        out.push_str("),\n");
    }

    out.push_str("  ),\n  sections: (\n");
    for (i, table) in report.sections.iter().enumerate().filter(|(_, t)| super::in_document(t)) {
        let paragraph = report
            .narrative
            .as_ref()
            .and_then(|n| n.sections.iter().find(|s| s.id == table.source))
            .map(|s| s.paragraph.as_str());
        let chart = chart_paths.get(i).and_then(|p| p.as_deref());
        push_section(&mut out, table, paragraph, chart);
    }
    out.push_str("  ),\n)\n");

    out.push_str(TEMPLATE);
    out
}

fn push_section(out: &mut String, table: &Table, paragraph: Option<&str>, chart: Option<&str>) {
    out.push_str("    (\n      title: ");
    push_str_literal(out, &table.title);
    out.push_str(",\n      note: ");
    push_opt_str(out, table.note.as_deref());
    out.push_str(",\n      paragraph: ");
    push_opt_str(out, paragraph);
    out.push_str(",\n      chart: ");
    push_opt_str(out, chart);
    out.push_str(",\n      appendix: ");
    push_opt_str(out, super::in_appendix(table).then(|| super::appendix_note(table)).as_deref());

    // A long-text column (an anomaly's explanation) reads as a full-width line under its row's
    // figures instead of a narrow column wrapped a word or two per line.
    let detail = detail_column(table);
    let shown: Vec<(usize, &crate::model::Column)> = shown_columns(table).filter(|(j, _)| Some(*j) != detail).collect();
    out.push_str(",\n      columns: ");
    push_str_array(out, shown.iter().map(|(_, c)| c.label.as_str()));

    // Every table spans the page: text columns share what the others (sized to their
    // content) leave, and wrap; a table without text columns spreads evenly.
    let has_text = shown.iter().any(|(_, c)| c.kind == ColumnKind::Text);
    out.push_str(",\n      widths: (");
    for (_, column) in &shown {
        out.push_str(if !has_text || column.kind == ColumnKind::Text { "1fr, " } else { "auto, " });
    }
    out.push_str("),\n      numeric: (");
    for (_, column) in &shown {
        out.push_str(if is_numeric(column.kind) { "true, " } else { "false, " });
    }

    out.push_str("),\n      rows: (\n");
    for i in 0..table.rows.len() {
        out.push_str("        (");
        // A short row (never expected) gives empty cells, keeping the grid aligned.
        for (j, _) in &shown {
            push_str_literal(out, &display_cell(table, i, *j));
            out.push_str(", ");
        }
        if let Some(j) = detail {
            push_str_literal(out, &display_cell(table, i, j));
            out.push_str(", ");
        }
        out.push_str("),\n");
    }
    out.push_str("      ),\n      detail: ");
    out.push_str(if detail.is_some() { "true" } else { "false" });
    out.push_str(",\n    ),\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cell, Chart, ChartKind, Column, Dashboard, KpiLine, Narrative, Period, SectionNarrative};
    use lopdf::content::Content;
    use lopdf::{Document, Object};
    use typst::syntax::ast::{self, AstNode};
    use typst::syntax::{SyntaxKind, SyntaxNode};

    const HOSTILE: [&str; 12] = [
        "#set page(width: 1pt)",
        "*bold*",
        "]",
        "$x$",
        "<script>alert(1)</script>",
        "=HYPERLINK(\"http://x\")",
        "a|b",
        "line one\nline two",
        "tab\there \\ back\\slash \"quoted\" \u{7}bell \u{2028}sep",
        "🚀 launch",
        "שלום עולם",
        "#{panic(\"x\")} @ref <label> // comment /* c */ `raw` _emph_ ~ --- ...",
    ];

    fn report(kpis: Vec<KpiLine>, sections: Vec<Table>) -> Report {
        Report {
            title: "Executive report".into(),
            dashboard: Dashboard::Executive,
            tenant: "Acme Retail".into(),
            period: Period::D30,
            from: "2026-10-31".into(),
            to: "2026-11-29".into(),
            timezone: "UTC".into(),
            segment: Some("Loyal customers".into()),
            generated_at: "2026-11-30T08:00:00Z".into(),
            narrative: Some(Narrative {
                executive_summary: "Impressions grew while spend held steady.".into(),
                sections: vec![SectionNarrative { id: "daily".into(), paragraph: "Traffic peaked mid-month.".into() }],
                key_takeaways: vec!["Impressions are up.".into(), "Spend is flat.".into(), "CTR improved.".into()],
                provider: "builtin".into(),
                model: None,
                fallback: false,
                fallback_reason: None,
            }),
            kpis,
            sections,
            page: Default::default(),
        }
    }

    fn kpi(label: &str, value: &str, previous: &str, delta: &str, chip: &str) -> KpiLine {
        KpiLine {
            label: label.into(),
            value: value.into(),
            previous: previous.into(),
            delta: delta.into(),
            chip: chip.into(),
            spark: vec![1.0, 3.0, 2.0, 4.0],
        }
    }

    fn daily_table(source: &str, title: &str, days: usize) -> Table {
        let mut table = Table::new(
            source,
            title,
            vec![
                Column::new("day", "Day", ColumnKind::Date),
                Column::new("impressions", "Impressions", ColumnKind::Integer),
                Column::new("clicks", "Clicks", ColumnKind::Integer),
            ],
        );
        for d in 0..days {
            let day = format!("2026-11-{:02}", d % 30 + 1);
            table.push(vec![Cell::Text(day), Cell::Int(1000 + 37 * d as i64), Cell::Int(40 + (d as i64 * 7) % 23)]);
        }
        table
    }

    /// Text of every page, in page order.
    fn page_texts(pdf: &[u8]) -> Vec<String> {
        let doc = Document::load_mem(pdf).expect("the renderer writes a PDF lopdf can read");
        doc.get_pages()
            .keys()
            .map(|&n| doc.extract_text_chunks(&[n]).into_iter().filter_map(Result::ok).collect::<String>())
            .collect()
    }

    /// Text extraction splits lines and runs arbitrarily; compare without any whitespace.
    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn contains(haystack: &str, needle: &str) -> bool {
        squash(haystack).contains(&squash(needle))
    }

    #[test]
    fn pdf_contains_the_kpis_and_every_row_of_every_section() {
        let kpis = vec![
            kpi("Impressions", "48,213", "41,002", "+17.6 %", "green"),
            kpi("Spend", "$12,904.55", "$13,120.00", "-1.6 %", "red"),
            kpi("CTR", "3.4 %", "—", "New", "blue"),
        ];
        let mut long = Table::new(
            "offer_performance",
            "Offer performance",
            vec![
                Column::new("offer", "Offer", ColumnKind::Text),
                Column::new("served", "Times served", ColumnKind::Integer),
                Column::new("ctr", "CTR", ColumnKind::Percent),
                Column::new("spend", "Spend", ColumnKind::Money),
            ],
        );
        for i in 0..300 {
            long.push(vec![
                Cell::Text(format!("row-{i:03}")),
                Cell::Int(10_000 + i),
                Cell::Num(1.5 + i as f64 / 100.0),
                if i % 7 == 0 { Cell::Null } else { Cell::Num(100.0 + i as f64) },
            ]);
        }
        long.note = Some("Offers served at least once in the period.".into());
        let short = daily_table("daily", "Daily traffic", 5);
        let pdf = render_pdf(&report(kpis, vec![short, long])).expect("renders");
        assert!(pdf.starts_with(b"%PDF-"));

        let pages = page_texts(&pdf);
        assert!(pages.len() > 2, "300 rows span several pages, got {}", pages.len());
        let all = pages.concat();
        for needle in ["48,213", "$12,904.55", "3.4 %", "+17.6 %", "Key metrics", "Executive summary", "Key takeaways"]
        {
            assert!(contains(&all, needle), "missing {needle:?}");
        }
        for needle in ["row-000", "row-001", "row-150", "row-298", "row-299", "Daily traffic", "Offer performance"] {
            assert!(contains(&all, needle), "missing {needle:?}");
        }
        assert!(contains(&all, "Page 1 of"), "page footer");
        // "Times served" is only the long table's header cell: repeated on every page it spans.
        let with_header = pages.iter().filter(|p| contains(p, "Times served")).count();
        assert!(with_header >= 3, "header row repeated on {with_header} page(s)");
    }

    #[test]
    fn hostile_text_renders_literally() {
        let mut table = Table::new(
            "hostile",
            HOSTILE[0],
            vec![Column::new("label", HOSTILE[4], ColumnKind::Text), Column::new("value", "]", ColumnKind::Integer)],
        );
        for (i, s) in HOSTILE.iter().enumerate() {
            table.push(vec![Cell::Text((*s).to_string()), Cell::Int(i as i64)]);
        }
        table.note = Some(HOSTILE[1].into());
        let mut r = report(vec![kpi(HOSTILE[5], HOSTILE[2], HOSTILE[3], HOSTILE[6], "#set text(red)")], vec![table]);
        r.title = HOSTILE[0].into();
        r.tenant = HOSTILE[9].into();
        r.segment = Some(HOSTILE[10].into());
        if let Some(n) = r.narrative.as_mut() {
            n.executive_summary = HOSTILE[7].into();
            n.key_takeaways = HOSTILE.iter().map(|s| s.to_string()).collect();
            n.sections = vec![SectionNarrative { id: "hostile".into(), paragraph: HOSTILE[11].into() }];
        }

        let pdf = render_pdf(&r).expect("hostile text still renders");
        let all = page_texts(&pdf).concat();
        for needle in [
            "#set page(width: 1pt)",
            "<script>",
            "<script>alert(1)</script>",
            "*bold*",
            "$x$",
            "a|b",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert!(contains(&all, needle), "{needle:?} not rendered literally");
        }
    }

    #[test]
    fn typst_str_round_trips_through_the_typst_parser() {
        fn find_str(node: &SyntaxNode) -> Option<&SyntaxNode> {
            if node.kind() == SyntaxKind::Str {
                return Some(node);
            }
            node.children().find_map(find_str)
        }
        for s in HOSTILE.iter().copied().chain(["", "\\", "\"", "\\\"", "\u{0}\u{1f}\u{7f}\u{85}", "end\\"]) {
            let literal = typst_str(s);
            let root = typst::syntax::parse_code(&literal);
            assert!(!root.diagnosis().errors, "{literal} does not parse");
            // The first string literal in the parse is the whole value: the literal cannot end early.
            let node = find_str(&root).expect("a string literal");
            let parsed = ast::Str::from_untyped(node).expect("a string node");
            assert_eq!(parsed.get().as_str(), s);
        }
        assert_eq!(typst_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn charts_render_as_vector_graphics() {
        /// Path-construction operators in page contents and form XObjects.
        fn path_ops(pdf: &[u8]) -> (usize, usize) {
            let doc = Document::load_mem(pdf).expect("parses");
            let mut streams: Vec<Vec<u8>> = doc.get_pages().values().map(|&id| doc.get_page_content(id)).collect();
            let mut raster_images = 0;
            for object in doc.objects.values() {
                if let Ok(stream) = object.as_stream() {
                    match stream.dict.get(b"Subtype").and_then(Object::as_name) {
                        Ok(b"Form") => streams.extend(stream.get_plain_content().ok()),
                        Ok(b"Image") => raster_images += 1,
                        _ => {}
                    }
                }
            }
            let ops = streams
                .iter()
                .filter_map(|s| Content::decode(s).ok())
                .flat_map(|c| c.operations)
                .filter(|op| matches!(op.operator.as_str(), "m" | "l" | "c" | "v" | "y" | "re"))
                .count();
            (ops, raster_images)
        }

        let mut charted = daily_table("daily", "Daily traffic", 30);
        charted.chart = Some(Chart::new(ChartKind::Line, "day", &["impressions", "clicks"]));
        let mut plain = charted.clone();
        plain.chart = None;

        let with_chart = render_pdf(&report(vec![], vec![charted])).expect("renders with a chart");
        let without_chart = render_pdf(&report(vec![], vec![plain])).expect("renders without a chart");
        let (ops_with, images_with) = path_ops(&with_chart);
        let (ops_without, _) = path_ops(&without_chart);
        // Two 30-point polylines and 60 dots are far more than 60 path operators.
        assert!(ops_with > ops_without + 60, "chart paths: {ops_with} vs {ops_without} without the chart");
        assert_eq!(images_with, 0, "the chart is vector, not a raster image");
    }

    #[test]
    fn renders_without_narrative_kpis_or_rows() {
        let mut r =
            report(vec![], vec![Table::new("empty", "Nothing yet", vec![Column::new("a", "A", ColumnKind::Text)])]);
        r.narrative = None;
        r.segment = None;
        let pdf = render_pdf(&r).expect("renders");
        let all = page_texts(&pdf).concat();
        assert!(contains(&all, "No data for this period."));
        assert!(!contains(&all, "Executive summary"));
    }
}
