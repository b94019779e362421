//! HTML: the same content as the PDF as one self-contained document — inline CSS, inline SVG
//! charts, no script, no external request — readable in a browser and safe in an email body.

use crate::model::chart::{render_svg, sparkline_svg, xml_escape};
use crate::model::table::{detail_column, display_cell, shown_columns};
use crate::model::Report;
use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    xml_escape(s)
}

const CSS: &str = "body{font-family:Helvetica,Arial,sans-serif;color:#17202c;background:#fff;margin:0;padding:24px;line-height:1.45}\
main{max-width:920px;margin:0 auto}h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6eb;padding-bottom:4px}\
.meta{color:#6b7687;font-size:13px;margin:0 0 16px}.summary{border-left:4px solid #2f5bea;padding:4px 14px;background:#f5f7fe}\
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 10px}th{text-align:left;color:#6b7687;font-weight:600;border-bottom:1px solid #d3d8e0;padding:6px 8px}\
td{border-bottom:1px solid #eef0f3;padding:6px 8px;vertical-align:top}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}\
.kpi{border:1px solid #e3e6eb;border-radius:8px;padding:10px 12px}.kpi-label{color:#6b7687;font-size:12px}\
.kpi-value{font-size:22px;font-weight:700;margin:2px 0}.kpi-foot{font-size:12px}.kpi svg{width:100%;height:28px}\
tr:has(+tr.detail) td{border-bottom:0}tr.detail td{color:#4a5566;font-size:12px;padding-top:0}\
.note{color:#6b7687;font-size:12px}.green{color:#0f8a5f}.red{color:#c2362f}.grey{color:#4a5566}.blue{color:#1f66d1}svg{max-width:100%;height:auto}";

/// Printing (or "Save as PDF" from a browser): the template's paper and orientation through
/// `@page`, no screen padding, headings kept with what follows them, rows and charts unbroken.
const PRINT_CSS: &str =
    "@media print{body{padding:0}main{max-width:none}h2{break-after:avoid}tr,svg,.kpi{break-inside:avoid}}";

/// Renders the report as one HTML document.
pub fn render_html(report: &Report) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}{PRINT_CSS}@page{{size:{};margin:16mm}}</style></head><body><main>",
        escape(&report.title),
        report.page.css_size()
    );
    let _ = write!(
        o,
        "<h1>{}</h1><p class=\"meta\">{} · {}",
        escape(&report.title),
        escape(&report.tenant),
        escape(&report.period_text())
    );
    if let Some(s) = &report.segment {
        let _ = write!(o, " · segment: {}", escape(s));
    }
    let _ = write!(o, "<br>Generated {}</p>", escape(&report.generated_at));
    if let Some(n) = &report.narrative {
        let _ = write!(
            o,
            "<h2>Executive summary</h2><div class=\"summary\"><p>{}</p></div><p class=\"note\">{}</p>",
            escape(&n.executive_summary),
            escape(&n.attribution())
        );
        if !n.key_takeaways.is_empty() {
            o.push_str("<h2>Key takeaways</h2><ul>");
            for t in &n.key_takeaways {
                let _ = write!(o, "<li>{}</li>", escape(t));
            }
            o.push_str("</ul>");
        }
    }
    if !report.kpis.is_empty() {
        // Tiles as on the dashboard: label, value, Δ in its colour, previous value, sparkline.
        o.push_str("<h2>Key metrics</h2><div class=\"kpis\">");
        for k in &report.kpis {
            let _ = write!(
                o,
                "<div class=\"kpi\"><div class=\"kpi-label\">{}</div><div class=\"kpi-value\">{}</div>\
                 <div class=\"kpi-foot\"><b class=\"{}\">{}</b> <span class=\"note\">previous {}</span></div>{}</div>",
                escape(&k.label),
                escape(&k.value),
                escape(&k.chip),
                escape(&k.delta),
                escape(&k.previous),
                if k.spark.len() >= 2 { sparkline_svg(&k.spark, "#2f5bea") } else { String::new() }
            );
        }
        o.push_str("</div>");
    }
    for t in report.sections.iter().filter(|t| super::in_document(t)) {
        let _ = write!(o, "<section><h2>{}</h2>", escape(&t.title));
        if let Some(p) = report.narrative.as_ref().and_then(|n| n.sections.iter().find(|s| s.id == t.source)) {
            let _ = write!(o, "<p>{}</p>", escape(&p.paragraph));
        }
        if let Some(n) = &t.note {
            let _ = write!(o, "<p class=\"note\">{}</p>", escape(n));
        }
        if let Some(c) = &t.chart {
            o.push_str(&render_svg(t, c));
        }
        if super::in_appendix(t) {
            let _ = write!(o, "<p class=\"note\">{}</p></section>", escape(&super::appendix_note(t)));
            continue;
        }
        table_html(&mut o, t);
        o.push_str("</section>");
    }
    let appendix: Vec<_> = report.sections.iter().filter(|t| super::in_document(t) && super::in_appendix(t)).collect();
    if !appendix.is_empty() {
        o.push_str("<h2>Appendix</h2>");
        for t in appendix {
            let _ = write!(o, "<section><h3>{}</h3>", escape(&t.title));
            table_html(&mut o, t);
            o.push_str("</section>");
        }
    }
    o.push_str("</main></body></html>");
    o
}

/// A section's table (or that it has no data).
fn table_html(o: &mut String, t: &crate::model::Table) {
    if t.rows.is_empty() {
        o.push_str("<p class=\"note\">No data for this period.</p>");
        return;
    }
    // As in the PDF: long text (an anomaly's explanation) is a full-width line under its row.
    let detail = detail_column(t);
    let shown: Vec<_> = shown_columns(t).filter(|(j, _)| Some(*j) != detail).collect();
    o.push_str("<table><thead><tr>");
    for (_, c) in &shown {
        let num = if crate::model::chart::plottable(c.kind) { " class=\"num\"" } else { "" };
        let _ = write!(o, "<th{num}>{}</th>", escape(&c.label));
    }
    o.push_str("</tr></thead><tbody>");
    for i in 0..t.rows.len() {
        o.push_str("<tr>");
        for (j, c) in &shown {
            let num = if crate::model::chart::plottable(c.kind) { " class=\"num\"" } else { "" };
            let _ = write!(o, "<td{num}>{}</td>", escape(&display_cell(t, i, *j)));
        }
        o.push_str("</tr>");
        if let Some(j) = detail {
            let _ = write!(
                o,
                "<tr class=\"detail\"><td colspan=\"{}\">{}</td></tr>",
                shown.len(),
                escape(&display_cell(t, i, j))
            );
        }
    }
    o.push_str("</tbody></table>");
}
