//! Chart descriptions and their SVG rendering. A chart is plain data (which columns are the x
//! axis and the series) over a [`Table`]; one pure function draws it as SVG, and that same SVG is
//! used by the dashboard, the HTML artifact and the PDF — so every surface shows the same chart.

use super::table::{ColumnKind, Table};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The kinds of chart we draw.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Lines over categories (days), one per series.
    Line,
    /// Grouped vertical bars.
    Bar,
    /// Stacked vertical bars.
    StackedBar,
    /// A grid of categories coloured by value (`x` × `y`), hatched where the value is null.
    Heatmap,
    /// Horizontal bars shrinking stage by stage.
    Funnel,
}

/// How to chart a table.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Kind.
    pub kind: ChartKind,
    /// Column key of the categories (x axis; funnel stages; heatmap columns).
    pub x: String,
    /// Column keys of the plotted values.
    pub series: Vec<String>,
    /// Heatmap only: column key of the row categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Chart {
    /// A chart of `kind` with x column and series columns.
    pub fn new(kind: ChartKind, x: &str, series: &[&str]) -> Self {
        Chart { kind, x: x.into(), series: series.iter().map(|s| s.to_string()).collect(), y: None }
    }
}

/// Series colours (colour-blind-friendly order).
pub const PALETTE: [&str; 6] = ["#2f5bea", "#e07a1f", "#0f8a5f", "#8e44ad", "#c2362f", "#1a9fb5"];

/// The width documents draw charts at (the PDF scales it to its text width).
pub const DEFAULT_WIDTH: f64 = 640.0;
/// Narrowest and widest a chart is drawn.
const MIN_W: f64 = 260.0;
const MAX_W: f64 = 1600.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 42.0;
/// Least distance between labels turned 35°, so their lines do not touch (11 px / sin 35° ≈ 19.2).
const TURNED_SPACING: f64 = 20.0;
/// Room under the plot for labels turned 35°.
const BOTTOM_TURNED: f64 = 78.0;
/// Text size, in the SVG's own pixels (drawn 1:1 in CSS pixels when the chart is drawn at its
/// container's width).
pub const FONT_PX: f64 = 11.0;

/// Where a chart is drawn: its width and the room left under the plot for category labels.
#[derive(Clone, Copy)]
struct Frame {
    w: f64,
    bottom: f64,
}

/// Width of a label in px at the chart font (Helvetica's average advance is about 0.58 em).
fn text_w(s: &str) -> f64 {
    0.58 * FONT_PX * s.chars().count() as f64
}

fn is_day(c: &str) -> bool {
    c.len() == 10 && c.as_bytes().get(4) == Some(&b'-')
}

/// How category labels fit under a plot whose categories are `slot` px apart: every `step`-th
/// one, horizontal — or, for names (not days) that do not fit side by side, turned 35° and cut
/// to `chars` (the full name stays in the label's tooltip).
#[derive(Clone, Copy)]
struct XPlan {
    step: usize,
    turned: bool,
    chars: usize,
}

fn short(c: &str, chars: usize) -> String {
    if is_day(c) {
        c[5..].to_string()
    } else {
        truncate(c, chars)
    }
}

fn plan_x(cats: &[String], slot: f64) -> XPlan {
    let widest = cats.iter().map(|c| text_w(&short(c, 14))).fold(0.0, f64::max);
    let gap = 8.0;
    if widest + gap <= slot {
        return XPlan { step: 1, turned: false, chars: 14 };
    }
    if !cats.iter().all(|c| is_day(c)) {
        // Turned labels need a line height between them: slot × sin 35° ≥ 11 px.
        let step = (TURNED_SPACING / slot.max(1e-9)).ceil().max(1.0) as usize;
        return XPlan { step, turned: true, chars: 16 };
    }
    let step = ((widest + gap) / slot.max(1e-9)).ceil().max(1.0) as usize;
    XPlan { step, turned: false, chars: 14 }
}

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Compact axis numbers: 950, 1.2k, 3.4M.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A "nice" upper bound ≥ `v` (1, 2, 2.5, 5 × 10^n).
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

fn unit_of(table: &Table, key: &str) -> String {
    table.col(key).and_then(|c| table.columns[c].unit.clone()).unwrap_or_default()
}

fn label_of(table: &Table, key: &str) -> String {
    table.col(key).map(|c| table.columns[c].label.clone()).unwrap_or_else(|| key.to_string())
}

fn value_text(v: f64, unit: &str) -> String {
    match unit {
        "%" => format!("{v:.1} %"),
        "USD" => format!("${}", super::table::group_thousands(v, 2)),
        "" => super::table::group_thousands(v, if v.fract() == 0.0 { 0 } else { 3 }),
        u => format!("{} {u}", super::table::group_thousands(v, if v.fract() == 0.0 { 0 } else { 1 })),
    }
}

/// Renders `chart` over `table` as a standalone SVG document fragment (`<svg …>…</svg>`), at the
/// documents' width.
pub fn render_svg(table: &Table, chart: &Chart) -> String {
    render_svg_at(table, chart, DEFAULT_WIDTH)
}

/// Renders `chart` `width` px wide: drawn at its container's width, its text is [`FONT_PX`] CSS
/// pixels whatever the card's size (one viewBox scaled to every card made it 4 px in narrow
/// cards and 20 px in wide ones), and the category labels are planned to never overlap.
pub fn render_svg_at(table: &Table, chart: &Chart, width: f64) -> String {
    let w = width.clamp(MIN_W, MAX_W).round();
    let title = xml_escape(&table.title);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {H}" width="{w}" height="{H}" role="img" aria-label="{title}" font-family="Helvetica, Arial, sans-serif" font-size="{FONT_PX}"><title>{title}</title>"#
    );
    if table.rows.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#6b7687">No data for this period</text></svg>"##,
            w / 2.0,
            H / 2.0
        );
        return s;
    }
    let f = Frame { w, bottom: BOTTOM };
    match chart.kind {
        ChartKind::Line => line(&mut s, f, table, chart),
        ChartKind::Bar => bars(&mut s, f, table, chart, false),
        ChartKind::StackedBar => bars(&mut s, f, table, chart, true),
        ChartKind::Heatmap => heatmap(&mut s, f, table, chart),
        ChartKind::Funnel => funnel(&mut s, f, table, chart),
    }
    s.push_str("</svg>");
    s
}

fn categories(table: &Table, key: &str) -> Vec<String> {
    let c = table.col(key);
    table.rows.iter().map(|r| c.map(|i| r[i].as_text()).unwrap_or_default()).collect()
}

fn values(table: &Table, key: &str) -> Vec<Option<f64>> {
    let c = table.col(key);
    table.rows.iter().map(|r| c.and_then(|i| r[i].as_f64())).collect()
}

fn legend(s: &mut String, table: &Table, series: &[String]) {
    if series.len() < 2 {
        let unit = series.first().map(|k| unit_of(table, k)).unwrap_or_default();
        let label = series.first().map(|k| label_of(table, k)).unwrap_or_default();
        let axis = if unit.is_empty() { label } else { format!("{label} ({unit})") };
        let _ = write!(s, r##"<text x="{LEFT}" y="14" fill="#4a5566">{}</text>"##, xml_escape(&axis));
        return;
    }
    let mut x = LEFT;
    for (i, k) in series.iter().enumerate() {
        let label = xml_escape(&label_of(table, k));
        let _ = write!(
            s,
            r##"<rect x="{x}" y="6" width="10" height="10" rx="2" fill="{}"/><text x="{}" y="15" fill="#4a5566">{label}</text>"##,
            PALETTE[i % PALETTE.len()],
            x + 14.0
        );
        x += 24.0 + 6.5 * label.chars().count() as f64;
    }
}

fn y_axis(s: &mut String, f: Frame, max: f64, unit: &str) {
    for i in 0..=4 {
        let v = max * i as f64 / 4.0;
        let y = TOP + (H - TOP - f.bottom) * (1.0 - i as f64 / 4.0);
        let label = if unit == "%" { format!("{} %", compact(v)) } else { compact(v) };
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e6eb"/><text x="{}" y="{:.1}" text-anchor="end" fill="#6b7687">{}</text>"##,
            f.w - RIGHT,
            LEFT - 6.0,
            y + 3.5,
            xml_escape(&label)
        );
    }
}

fn x_labels(s: &mut String, f: Frame, plan: XPlan, cats: &[String], xs: &[f64]) {
    let y = H - f.bottom + 16.0;
    for (i, (c, x)) in cats.iter().zip(xs).enumerate() {
        if i % plan.step != 0 {
            continue;
        }
        let label = short(c, plan.chars);
        let tip = if label != *c { format!("<title>{}</title>", xml_escape(c)) } else { String::new() };
        if plan.turned {
            let _ = write!(
                s,
                r##"<text class="x-label" x="{x:.1}" y="{y:.1}" text-anchor="end" transform="rotate(-35 {x:.1} {y:.1})" fill="#6b7687">{tip}{}</text>"##,
                xml_escape(&label)
            );
        } else {
            let _ = write!(
                s,
                r##"<text class="x-label" x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#6b7687">{tip}{}</text>"##,
                xml_escape(&label)
            );
        }
    }
}

fn line(s: &mut String, f: Frame, table: &Table, chart: &Chart) {
    let cats = categories(table, &chart.x);
    let series: Vec<Vec<Option<f64>>> = chart.series.iter().map(|k| values(table, k)).collect();
    let max = nice_max(series.iter().flatten().flatten().fold(0.0f64, |a, b| a.max(*b)));
    let unit = chart.series.first().map(|k| unit_of(table, k)).unwrap_or_default();
    let n = cats.len();
    let plot_w = f.w - LEFT - RIGHT;
    let plan = plan_x(&cats, plot_w / n.max(1) as f64);
    let f = Frame { bottom: if plan.turned { BOTTOM_TURNED } else { f.bottom }, ..f };
    legend(s, table, &chart.series);
    y_axis(s, f, max, &unit);
    let xs: Vec<f64> =
        (0..n).map(|i| if n == 1 { LEFT + plot_w / 2.0 } else { LEFT + plot_w * i as f64 / (n - 1) as f64 }).collect();
    let y_of = |v: f64| TOP + (H - TOP - f.bottom) * (1.0 - v / max);
    for (si, vals) in series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let pts: Vec<String> =
            vals.iter().zip(&xs).filter_map(|(v, x)| v.map(|v| format!("{x:.1},{:.1}", y_of(v)))).collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
            pts.join(" ")
        );
        let label = label_of(table, &chart.series[si]);
        for ((v, x), c) in vals.iter().zip(&xs).zip(&cats) {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    r#"<circle cx="{x:.1}" cy="{:.1}" r="{}" fill="{color}"><title>{}: {} — {}</title></circle>"#,
                    y_of(*v),
                    if n > 40 { 1.5 } else { 2.5 },
                    xml_escape(c),
                    xml_escape(&label),
                    xml_escape(&value_text(*v, &unit))
                );
            }
        }
    }
    x_labels(s, f, plan, &cats, &xs);
}

fn bars(s: &mut String, f: Frame, table: &Table, chart: &Chart, stacked: bool) {
    let cats = categories(table, &chart.x);
    let series: Vec<Vec<Option<f64>>> = chart.series.iter().map(|k| values(table, k)).collect();
    let top = if stacked {
        (0..cats.len()).map(|i| series.iter().map(|v| v[i].unwrap_or(0.0).max(0.0)).sum::<f64>()).fold(0.0, f64::max)
    } else {
        series.iter().flatten().flatten().fold(0.0f64, |a, b| a.max(*b))
    };
    let max = nice_max(top);
    let unit = chart.series.first().map(|k| unit_of(table, k)).unwrap_or_default();
    let n = cats.len().max(1);
    let slot = (f.w - LEFT - RIGHT) / n as f64;
    let plan = plan_x(&cats, slot);
    let f = Frame { bottom: if plan.turned { BOTTOM_TURNED } else { f.bottom }, ..f };
    legend(s, table, &chart.series);
    y_axis(s, f, max, &unit);
    let group_w = slot * 0.72;
    let per = if stacked { group_w } else { group_w / series.len().max(1) as f64 };
    let h_of = |v: f64| (H - TOP - f.bottom) * (v.max(0.0) / max);
    let base = H - f.bottom;
    let mut xs = Vec::with_capacity(n);
    for (i, c) in cats.iter().enumerate() {
        let x0 = LEFT + slot * i as f64 + (slot - group_w) / 2.0;
        xs.push(LEFT + slot * (i as f64 + 0.5));
        let mut acc = 0.0;
        for (si, vals) in series.iter().enumerate() {
            let v = vals[i].unwrap_or(0.0);
            let h = h_of(v);
            let (x, y) = if stacked { (x0, base - h_of(acc) - h) } else { (x0 + per * si as f64, base - h) };
            acc += v.max(0.0);
            if h < 0.05 {
                continue; // nothing to draw (and a zero-height rect is invalid SVG to some readers)
            }
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" rx="2" fill="{}"><title>{}: {} — {}</title></rect>"#,
                (per - 1.0).max(1.0),
                PALETTE[si % PALETTE.len()],
                xml_escape(c),
                xml_escape(&label_of(table, &chart.series[si])),
                xml_escape(&value_text(v, &unit))
            );
        }
    }
    x_labels(s, f, plan, &cats, &xs);
}

fn heatmap(s: &mut String, f: Frame, table: &Table, chart: &Chart) {
    let Some(ykey) = chart.y.as_deref() else { return };
    let xs_all = categories(table, &chart.x);
    let ys_all = categories(table, ykey);
    let mut xs: Vec<String> = Vec::new();
    let mut ys: Vec<String> = Vec::new();
    for x in &xs_all {
        if !xs.contains(x) {
            xs.push(x.clone());
        }
    }
    for y in &ys_all {
        if !ys.contains(y) {
            ys.push(y.clone());
        }
    }
    let vkey = chart.series.first().cloned().unwrap_or_default();
    let vals = values(table, &vkey);
    let max = vals.iter().flatten().fold(0.0f64, |a, b| a.max(*b)).max(1e-9);
    let unit = unit_of(table, &vkey);
    let label_w = 120.0;
    let cw = (f.w - label_w - RIGHT) / xs.len().max(1) as f64;
    // The grid starts under the title and the colour legend.
    let top = TOP + 14.0;
    let ch = ((H - top - BOTTOM_TURNED) / ys.len().max(1) as f64).min(34.0);
    let _ = write!(
        s,
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1f3f6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c9ced6" stroke-width="2"/></pattern></defs>"##
    );
    let _ = write!(
        s,
        r##"<text x="{label_w}" y="14" fill="#4a5566">{}</text>"##,
        xml_escape(&format!("{} ({unit}); hatched: too few impressions", label_of(table, &vkey)))
    );
    // Colour legend: the scale from the lowest to the highest value, under the title.
    let min = vals.iter().flatten().fold(f64::INFINITY, |a, b| a.min(*b));
    let min_text = value_text(if min.is_finite() { min } else { 0.0 }, &unit);
    let lx = label_w + text_w(&min_text) + 4.0;
    let ly = 22.0;
    let _ = write!(
        s,
        r##"<defs><linearGradient id="heat-scale"><stop offset="0" stop-color="#e8eefd"/><stop offset="1" stop-color="#1f4abe"/></linearGradient></defs><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#6b7687">{}</text><rect class="legend" x="{lx:.1}" y="{:.1}" width="120" height="10" fill="url(#heat-scale)"/><text x="{lx:.1}" y="{:.1}" dx="124" fill="#6b7687">{}</text>"##,
        lx - 4.0,
        ly + 9.0,
        xml_escape(&min_text),
        ly,
        ly + 9.0,
        xml_escape(&value_text(max, &unit))
    );
    for (yi, y) in ys.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#4a5566">{}</text>"##,
            label_w - 6.0,
            top + ch * (yi as f64 + 0.5) + 4.0,
            xml_escape(&truncate(y, 16))
        );
    }
    for (i, v) in vals.iter().enumerate() {
        let (Some(xi), Some(yi)) = (xs.iter().position(|x| *x == xs_all[i]), ys.iter().position(|y| *y == ys_all[i]))
        else {
            continue;
        };
        let (x, y) = (label_w + cw * xi as f64, top + ch * yi as f64);
        let fill = match v {
            Some(v) => {
                let t = (v / max).clamp(0.0, 1.0);
                let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
                format!("#{:02x}{:02x}{:02x}", mix(232.0, 31.0), mix(238.0, 74.0), mix(253.0, 190.0))
            }
            None => "url(#hatch)".into(),
        };
        let tip = match v {
            Some(v) => value_text(*v, &unit),
            None => "too few impressions".into(),
        };
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="#fff"><title>{} × {}: {}</title></rect>"##,
            cw,
            ch,
            xml_escape(&ys_all[i]),
            xml_escape(&xs_all[i]),
            xml_escape(&tip)
        );
    }
    let step = (TURNED_SPACING / cw.max(1e-9)).ceil().max(1.0) as usize;
    for (xi, x) in xs.iter().enumerate().filter(|(i, _)| i % step == 0) {
        let cx = label_w + cw * (xi as f64 + 0.5);
        let cy = top + ch * ys.len() as f64 + 12.0;
        let label = truncate(x, 14);
        let tip = if label != *x { format!("<title>{}</title>", xml_escape(x)) } else { String::new() };
        let _ = write!(
            s,
            r##"<text class="x-label" x="{cx:.1}" y="{cy:.1}" text-anchor="end" transform="rotate(-35 {cx:.1} {cy:.1})" fill="#4a5566">{tip}{}</text>"##,
            xml_escape(&label)
        );
    }
}

fn funnel(s: &mut String, f: Frame, table: &Table, chart: &Chart) {
    let cats = categories(table, &chart.x);
    let vkey = chart.series.first().cloned().unwrap_or_default();
    let vals = values(table, &vkey);
    let first = vals.first().copied().flatten().unwrap_or(0.0).max(1e-9);
    let row_h = (H - TOP - 8.0) / cats.len().max(1) as f64;
    let label_w = 150.0;
    let full = (f.w - label_w - 90.0).max(40.0);
    let unit = unit_of(table, &vkey);
    legend(s, table, &chart.series);
    for (i, (c, v)) in cats.iter().zip(&vals).enumerate() {
        let v = v.unwrap_or(0.0);
        let w = full * (v / first).clamp(0.0, 1.0);
        let y = TOP + row_h * i as f64;
        let x = label_w + (full - w) / 2.0;
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#4a5566">{}</text><rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" rx="3" fill="{}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" fill="#17202c">{}</text>"##,
            label_w - 8.0,
            y + row_h / 2.0 + 4.0,
            xml_escape(&truncate(c, 22)),
            y + 3.0,
            (row_h - 6.0).max(4.0),
            PALETTE[0],
            xml_escape(c),
            xml_escape(&value_text(v, &unit)),
            label_w + full + 8.0,
            y + row_h / 2.0 + 4.0,
            xml_escape(&format!("{} ({:.0} %)", compact(v), 100.0 * v / first))
        );
    }
}

/// A tiny line for KPI cards.
pub fn sparkline_svg(values: &[f64], color: &str) -> String {
    let (w, h) = (120.0, 28.0);
    if values.len() < 2 {
        return format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true"></svg>"#
        );
    }
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let span = (max - min).max(1e-9);
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!("{:.1},{:.1}", w * i as f64 / (values.len() - 1) as f64, 2.0 + (h - 4.0) * (1.0 - (v - min) / span))
        })
        .collect();
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true"><polyline fill="none" stroke="{color}" stroke-width="1.6" points="{}"/></svg>"#,
        pts.join(" ")
    )
}

/// Whether a column kind can be plotted.
pub fn plottable(kind: ColumnKind) -> bool {
    !matches!(kind, ColumnKind::Text | ColumnKind::Date | ColumnKind::Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::table::{Cell, Column};

    fn table() -> Table {
        let mut t = Table::new(
            "t",
            "Revenue <trend>",
            vec![Column::new("day", "Day", ColumnKind::Date), Column::new("revenue", "Revenue", ColumnKind::Money)],
        );
        t.push(vec![Cell::Text("2026-11-29".into()), Cell::Num(10.0)]);
        t.push(vec![Cell::Text("2026-11-30".into()), Cell::Num(30.0)]);
        t
    }

    #[test]
    fn charts_are_accessible_and_escape_their_text() {
        let svg = render_svg(&table(), &Chart::new(ChartKind::Line, "day", &["revenue"]));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("aria-label=\"Revenue &lt;trend&gt;\""));
        assert!(svg.contains("2026-11-30: Revenue — $30.00"), "tooltip with unit");
        assert!(!svg.contains("<trend>"));
    }

    #[test]
    fn every_kind_renders_one_mark_per_value() {
        let t = table();
        for kind in [ChartKind::Bar, ChartKind::StackedBar, ChartKind::Funnel] {
            let svg = render_svg(&t, &Chart::new(kind, "day", &["revenue"]));
            assert_eq!(svg.matches("<rect x=").count(), 2, "{kind:?}");
        }
        let empty = Table::new("e", "Empty", t.columns.clone());
        assert!(render_svg(&empty, &Chart::new(ChartKind::Line, "day", &["revenue"])).contains("No data"));
    }

    #[test]
    fn nice_bounds_and_compact_numbers() {
        assert_eq!(nice_max(37.0), 50.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(compact(12_600.0), "13k");
        assert_eq!(compact(2_500_000.0), "2.5M");
    }
}
