//! XLSX: one workbook a spreadsheet user can work in straight away. A first "Summary" sheet says
//! what the report is (title, dashboard, period, filters, when it was generated, in the report's
//! zone) and carries the narrative; then one sheet per section, with the same rows and columns as
//! the CSV of the same report, but typed: numbers are numbers with a number format (thousands,
//! money, one decimal for milliseconds), percentages are fractions with a percent format (12.5
//! percent points are written 0.125 and shown 12.5%), days are dates and instants are date-times
//! in the report's zone. The header row is bold and frozen, columns are fitted to their content.
//!
//! Text is always written as a string cell, never as a formula, so `=HYPERLINK(…)` in a name is
//! inert here without the CSV's leading apostrophe.

use crate::model::table::{kind_of_format, row_format, shown_columns};
use crate::model::{Cell, ColumnKind, Report, Table};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// Widest a fitted column gets, in characters: an explanation column wraps instead.
const MAX_WIDTH: u32 = 60;

/// Excel's limit on a sheet name, in characters.
const SHEET_NAME_MAX: usize = 31;

/// The number formats, by what a cell holds.
struct Formats {
    header: Format,
    integer: Format,
    number: Format,
    percent: Format,
    money: Format,
    duration: Format,
    date: Format,
    datetime: Format,
    text: Format,
    wrap: Format,
    title: Format,
    label: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Top),
            integer: Format::new().set_num_format("#,##0"),
            number: Format::new().set_num_format("#,##0.00"),
            percent: Format::new().set_num_format("0.0%"),
            money: Format::new().set_num_format("$#,##0.00"),
            duration: Format::new().set_num_format("#,##0.0"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            text: Format::new(),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            title: Format::new().set_bold().set_font_size(16),
            label: Format::new().set_bold().set_align(FormatAlign::Top),
        }
    }

    /// The format of a number with `decimals` places and thousands separators.
    fn decimals(d: u8) -> Format {
        let frac = if d == 0 { String::new() } else { format!(".{}", "0".repeat(d as usize)) };
        Format::new().set_num_format(format!("#,##0{frac}"))
    }
}

/// What a cell is in the workbook: the column's kind, except in a table whose rows each say their
/// own number format (a KPI table's `value` and `previous`: `percent`, `money`, …).
fn cell_kind(t: &Table, row: usize, col: usize) -> ColumnKind {
    row_format(t, row, col).map_or(t.columns[col].kind, kind_of_format)
}

/// A header a person reads: the label, with the unit where the cell's format does not show it
/// (`Latency (ms)`) and the zone of instants (`Started (Europe/Paris)`).
fn header_text(t: &Table, col: usize, zone: &str) -> String {
    let c = &t.columns[col];
    match c.kind {
        ColumnKind::Duration => format!("{} (ms)", c.label),
        ColumnKind::Timestamp => format!("{} ({zone})", c.label),
        _ => c.label.clone(),
    }
}

/// The time zone of a report's dates (UTC when the name is not one chrono-tz knows).
fn zone(report: &Report) -> chrono_tz::Tz {
    report.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// An ISO day as an Excel date.
fn excel_date(text: &str) -> Option<ExcelDateTime> {
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    ExcelDateTime::from_ymd(u16::try_from(d.year()).ok()?, d.month() as u8, d.day() as u8).ok()
}

/// An RFC 3339 instant as an Excel date-time on the wall clock of `tz`.
fn excel_instant(text: &str, tz: chrono_tz::Tz) -> Option<ExcelDateTime> {
    use chrono::{Datelike, Timelike};
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&tz);
    ExcelDateTime::from_ymd(u16::try_from(at.year()).ok()?, at.month() as u8, at.day() as u8)
        .ok()?
        .and_hms(at.hour() as u16, at.minute() as u8, f64::from(at.second()))
        .ok()
}

/// Writes one typed cell.
fn write_cell(
    ws: &mut Worksheet,
    (r, c): (u32, u16),
    cell: &Cell,
    kind: ColumnKind,
    decimals: Option<u8>,
    f: &Formats,
    tz: chrono_tz::Tz,
) -> Result<(), XlsxError> {
    match (cell, kind) {
        (Cell::Null, _) => {}
        (Cell::Text(s), ColumnKind::Date) => match excel_date(s) {
            Some(d) => {
                ws.write_datetime_with_format(r, c, d, &f.date)?;
            }
            None => {
                ws.write_string_with_format(r, c, s, &f.text)?;
            }
        },
        (Cell::Text(s), ColumnKind::Timestamp) => match excel_instant(s, tz) {
            Some(d) => {
                ws.write_datetime_with_format(r, c, d, &f.datetime)?;
            }
            None => {
                ws.write_string_with_format(r, c, s, &f.text)?;
            }
        },
        (Cell::Text(s), _) => {
            let format = if s.len() > MAX_WIDTH as usize { &f.wrap } else { &f.text };
            ws.write_string_with_format(r, c, s, format)?;
        }
        (Cell::Int(_) | Cell::Num(_), kind) => {
            let v = cell.as_f64().unwrap_or_default();
            let (v, format) = match (kind, decimals) {
                (ColumnKind::Percent, _) => (v / 100.0, &f.percent),
                (ColumnKind::Money, _) => (v, &f.money),
                (ColumnKind::Duration, _) => (v, &f.duration),
                (_, Some(d)) => {
                    ws.write_number_with_format(r, c, v, &Formats::decimals(d))?;
                    return Ok(());
                }
                (_, None) if matches!(cell, Cell::Int(_)) => (v, &f.integer),
                (ColumnKind::Integer, None) => (v, &f.integer),
                _ => (v, &f.number),
            };
            ws.write_number_with_format(r, c, v, format)?;
        }
    }
    Ok(())
}

/// A sheet name Excel accepts, unique in the workbook (case-insensitively): at most 31
/// characters, none of `[ ] : * ? / \`, not starting or ending with an apostrophe.
pub fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String =
        title.chars().map(|ch| if matches!(ch, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { '-' } else { ch }).collect();
    let clean = clean.trim().trim_matches('\'').trim();
    let base: String = if clean.is_empty() { "Sheet".into() } else { clean.chars().take(SHEET_NAME_MAX).collect() };
    let free = |n: &str| !taken.iter().any(|t| t.to_lowercase() == n.to_lowercase());
    if free(&base) {
        return base;
    }
    (2..)
        .map(|i| {
            let suffix = format!(" ({i})");
            let keep = SHEET_NAME_MAX - suffix.chars().count();
            format!("{}{suffix}", base.chars().take(keep).collect::<String>().trim_end())
        })
        .find(|n| free(n))
        .unwrap_or_default()
}

/// The "Summary" sheet: what this workbook is, and the narrative.
fn summary(ws: &mut Worksheet, report: &Report, f: &Formats, tz: chrono_tz::Tz) -> Result<(), XlsxError> {
    ws.set_name("Summary")?;
    ws.write_string_with_format(0, 0, &report.title, &f.title)?;
    let mut r = 2u32;
    let mut line = |ws: &mut Worksheet, label: &str, value: &str| -> Result<(), XlsxError> {
        ws.write_string_with_format(r, 0, label, &f.label)?;
        ws.write_string_with_format(r, 1, value, &f.wrap)?;
        r += 1;
        Ok(())
    };
    line(ws, "Organisation", &report.tenant)?;
    line(ws, "Dashboard", report.dashboard.title())?;
    let period = report.period.label();
    let period = period[..1].to_uppercase() + &period[1..];
    line(ws, "Period", &format!("{period} — {}", report.period_text()))?;
    line(ws, "Segment", report.segment.as_deref().unwrap_or("All segments"))?;
    ws.write_string_with_format(r, 0, "Generated", &f.label)?;
    match excel_instant(&report.generated_at, tz) {
        Some(at) => ws.write_datetime_with_format(r, 1, at, &f.datetime)?,
        None => ws.write_string_with_format(r, 1, &report.generated_at, &f.text)?,
    };
    ws.write_string_with_format(r, 2, report.timezone.as_str(), &f.text)?;
    r += 1;
    if let Some(n) = &report.narrative {
        r += 1;
        ws.write_string_with_format(r, 0, "Executive summary", &f.label)?;
        ws.write_string_with_format(r, 1, &n.executive_summary, &f.wrap)?;
        r += 1;
        for (i, t) in n.key_takeaways.iter().enumerate() {
            ws.write_string_with_format(r, 0, if i == 0 { "Key takeaways" } else { "" }, &f.label)?;
            ws.write_string_with_format(r, 1, t, &f.wrap)?;
            r += 1;
        }
        for p in &n.sections {
            let title = report.sections.iter().find(|t| t.source == p.id).map_or(p.id.as_str(), |t| t.title.as_str());
            ws.write_string_with_format(r, 0, title, &f.label)?;
            ws.write_string_with_format(r, 1, &p.paragraph, &f.wrap)?;
            r += 1;
        }
        ws.write_string_with_format(r, 1, n.attribution(), &f.wrap)?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "Sheets", &f.label)?;
    for (i, t) in report.sections.iter().enumerate() {
        ws.write_string_with_format(r + i as u32, 1, &t.title, &f.text)?;
    }
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 90)?;
    ws.set_column_width(2, 16)?;
    Ok(())
}

/// One section's sheet: a bold frozen header row of labels, then the rows, typed.
fn section(ws: &mut Worksheet, t: &Table, f: &Formats, tz: chrono_tz::Tz, zone_name: &str) -> Result<(), XlsxError> {
    let shown: Vec<usize> = shown_columns(t).map(|(j, _)| j).collect();
    for (c, &j) in shown.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, header_text(t, j, zone_name), &f.header)?;
    }
    for (i, row) in t.rows.iter().enumerate() {
        for (c, &j) in shown.iter().enumerate() {
            let cell = row.get(j).unwrap_or(&Cell::Null);
            write_cell(ws, (i as u32 + 1, c as u16), cell, cell_kind(t, i, j), t.columns[j].decimals, f, tz)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.set_autofit_max_width(MAX_WIDTH * 7);
    ws.autofit();
    if t.rows.is_empty() {
        ws.write_string_with_format(1, 0, "No data for this period.", &f.text)?;
    }
    Ok(())
}

/// Renders the report as an XLSX workbook.
pub fn render_xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let tz = zone(report);
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title(&report.title).set_company(&report.tenant).set_comment(format!(
        "{} — {}",
        report.dashboard.title(),
        report.period_text()
    )));
    summary(wb.add_worksheet(), report, &f, tz)?;
    let mut taken = vec!["Summary".to_string()];
    for t in &report.sections {
        let name = sheet_name(&t.title, &taken);
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        section(ws, t, &f, tz, &report.timezone)?;
        taken.push(name);
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_ones_excel_accepts_and_never_collide() {
        let mut taken = vec!["Summary".to_string()];
        let a = sheet_name("Revenue: by offer / segment [EU]?", &taken);
        assert_eq!(a, "Revenue- by offer - segment -EU");
        assert!(a.chars().count() <= 31);
        taken.push(a.clone());
        let b = sheet_name("Revenue: by offer / segment [EU]? again", &taken);
        assert_ne!(b.to_lowercase(), a.to_lowercase());
        assert!(b.chars().count() <= 31 && b.ends_with("(2)"), "{b}");
        assert_eq!(sheet_name("summary", &taken), "summary (2)", "case-insensitively unique");
        assert_eq!(sheet_name("''", &taken), "Sheet");
    }
}
