//! CSV: raw rows only, no narrative. One file, sections stacked: each section starts with its
//! own header row, and every row's first column is the section key so a spreadsheet can filter
//! by it. RFC 4180 quoting, UTF-8, numbers unformatted, dates ISO 8601, and text cells that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) are prefixed with `'`.

use crate::model::{Cell, Report};

/// Neutralises a text cell against formula injection.
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// A cell's raw value: integers and numbers unformatted, text neutralised, null empty.
pub fn raw(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Int(i) => i.to_string(),
        Cell::Num(n) => {
            let s = format!("{n}");
            if s.contains('e') {
                format!("{n:.10}").trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            }
        }
        Cell::Text(t) => neutralise(t),
    }
}

/// Renders the report as CSV bytes.
pub fn render_csv(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new().flexible(true).terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for t in &report.sections {
        // Internal columns (a KPI's chip colour and number format) are for drawing, not data.
        let shown: Vec<_> = crate::model::table::shown_columns(t).collect();
        let mut header = vec!["section".to_string()];
        header.extend(shown.iter().map(|(_, c)| c.key.clone()));
        w.write_record(&header)?;
        for row in &t.rows {
            let mut rec = vec![t.source.clone()];
            rec.extend(shown.iter().map(|(j, _)| row.get(*j).map(raw).unwrap_or_default()));
            w.write_record(&rec)?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_numbers_are_not() {
        assert_eq!(raw(&Cell::Text("=HYPERLINK(\"x\")".into())), "'=HYPERLINK(\"x\")");
        assert_eq!(raw(&Cell::Text("@SUM(A1)".into())), "'@SUM(A1)");
        assert_eq!(raw(&Cell::Text("-2+3".into())), "'-2+3");
        assert_eq!(raw(&Cell::Num(-2.5)), "-2.5");
        assert_eq!(raw(&Cell::Int(1234567)), "1234567");
        assert_eq!(raw(&Cell::Num(1e21)), "1000000000000000000000");
        assert_eq!(raw(&Cell::Null), "");
    }
}
