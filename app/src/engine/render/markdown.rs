//! Markdown: a human-readable summary to paste into Slack or email — heading, period,
//! narrative, takeaways as bullets, KPI and section tables as GitHub-flavoured pipe tables.
//! Text from data or a model is escaped so it can never become markup, links or table breaks.

use crate::model::table::{display_cell, shown_columns};
use crate::model::Report;
use std::fmt::Write as _;

/// Escapes text for Markdown inline content (one line; newlines become spaces).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    let trimmed = out.trim_start();
    // A leading "1." or "-" / "+" would start a list; "=" or "-" lines could make a heading.
    if trimmed.starts_with(['-', '+', '='])
        || trimmed.split_once(". ").is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    {
        format!("\\{trimmed}")
    } else {
        out
    }
}

fn table(out: &mut String, header: &[String], rows: &[Vec<String>], right: &[bool]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let sep: Vec<&str> = right.iter().map(|r| if *r { "---:" } else { "---" }).collect();
    let _ = writeln!(out, "| {} |", sep.join(" | "));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

/// Renders the report as Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", escape(&report.title));
    let mut meta = format!(
        "**{}** · {} · {}",
        escape(&report.tenant),
        escape(report.period.label()),
        escape(&report.period_text())
    );
    if let Some(s) = &report.segment {
        let _ = write!(meta, " · segment: {}", escape(s));
    }
    let _ = writeln!(out, "{meta}  \nGenerated {}\n", escape(&report.generated_at));
    if let Some(n) = &report.narrative {
        let _ = writeln!(
            out,
            "## Executive summary\n\n{}\n\n_{}_\n",
            escape(&n.executive_summary),
            escape(&n.attribution())
        );
        if !n.key_takeaways.is_empty() {
            out.push_str("## Key takeaways\n\n");
            for t in &n.key_takeaways {
                let _ = writeln!(out, "- {}", escape(t));
            }
            out.push('\n');
        }
    }
    if !report.kpis.is_empty() {
        out.push_str("## Key metrics\n\n");
        let rows: Vec<Vec<String>> = report
            .kpis
            .iter()
            .map(|k| vec![escape(&k.label), escape(&k.value), escape(&k.previous), escape(&k.delta)])
            .collect();
        table(
            &mut out,
            &["Metric".into(), "Value".into(), "Previous".into(), "Δ".into()],
            &rows,
            &[false, true, true, true],
        );
    }
    for t in report.sections.iter().filter(|t| super::in_document(t)) {
        let _ = writeln!(out, "## {}\n", escape(&t.title));
        if let Some(p) = report.narrative.as_ref().and_then(|n| n.sections.iter().find(|s| s.id == t.source)) {
            let _ = writeln!(out, "{}\n", escape(&p.paragraph));
        }
        if let Some(note) = &t.note {
            let _ = writeln!(out, "_{}_\n", escape(note));
        }
        if t.rows.is_empty() {
            out.push_str("No data for this period.\n\n");
            continue;
        }
        let shown: Vec<_> = shown_columns(t).collect();
        let header: Vec<String> = shown.iter().map(|(_, c)| escape(&c.label)).collect();
        let right: Vec<bool> = shown.iter().map(|(_, c)| crate::model::chart::plottable(c.kind)).collect();
        let rows: Vec<Vec<String>> =
            (0..t.rows.len()).map(|i| shown.iter().map(|(j, _)| escape(&display_cell(t, i, *j))).collect()).collect();
        table(&mut out, &header, &rows, &right);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escaping_defuses_markup_links_and_pipes() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(escape("line\nbreak"), "line break");
        assert_eq!(escape("# heading"), "\\# heading");
        assert_eq!(escape("- item"), "\\- item");
        assert_eq!(escape("1. item"), "\\1. item");
        assert_eq!(escape("<script>"), "\\<script\\>");
    }
}
