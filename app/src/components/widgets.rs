//! Dashboard widgets: KPI cards, charts (our own SVG), tables and the anomaly feed. Each widget
//! renders one data source's table, or that source's own error.

use crate::components::time::When;
use crate::model::chart::{render_svg_at, sparkline_svg, DEFAULT_WIDTH};
use crate::model::table::{display_cell, format_cell, format_kpi};
use crate::model::{Cell, ColumnKind, Display, Table, WidgetData, WidgetSpec};
use leptos::prelude::*;

/// One widget in the grid.
#[component]
pub fn Widget(spec: WidgetSpec, data: WidgetData) -> impl IntoView {
    let span = format!("widget-slot span-{}", spec.span);
    let body = match (data.table, data.error) {
        (Some(t), _) => match spec.display {
            Display::Kpis => view! { <KpiCards table=t/> }.into_any(),
            Display::Chart => view! { <ChartCard table=t/> }.into_any(),
            Display::Table => view! { <TableCard table=t/> }.into_any(),
            Display::Anomalies => view! { <AnomalyFeed table=t/> }.into_any(),
        },
        (None, err) => view! {
            <div class="card widget">
                <p class="widget-error" role="alert">{err.unwrap_or_else(|| "This widget could not be loaded".into())}</p>
            </div>
        }
        .into_any(),
    };
    view! { <section class=span data-source=spec.source>{body}</section> }
}

/// KPI cards with value, Δ% chip and sparkline.
#[component]
pub fn KpiCards(table: Table) -> impl IntoView {
    let n = table.rows.len();
    let cols = if n == 6 || n == 3 { "grid grid-3" } else { "grid grid-4" };
    let has_delta = table.col("chip").is_some();
    let cards = (0..n)
        .map(|i| {
            let get = |k: &str| table.cell(i, k).cloned().unwrap_or(Cell::Null);
            let key = get("metric").as_text();
            let format = get("format").as_text();
            let value = format_kpi(&get("value"), &format);
            let chip = get("chip").as_text();
            let delta = match (get("delta_pct"), chip.as_str()) {
                (_, "blue") => "New".to_string(),
                (Cell::Null, _) => "—".to_string(),
                (d, _) => {
                    let v = d.as_f64().unwrap_or_default();
                    let arrow = if v > 0.0 { "▲" } else if v < 0.0 { "▼" } else { "■" };
                    format!("{arrow} {:+.1} %", v)
                }
            };
            let spark = table.sparklines.iter().find(|(k, _)| *k == key).map(|(_, v)| sparkline_svg(v, "#2f5bea")).unwrap_or_default();
            let label = get("label").as_text();
            let prev = get("previous");
            let title = match &prev {
                Cell::Null => String::new(),
                p => format!("Previous period: {}", format_kpi(p, &format)),
            };
            view! {
                <div class="card kpi" data-kpi=key.clone()>
                    <span class="kpi-label">{label}</span>
                    <span class="kpi-value" data-testid=format!("kpi-{key}")>{value}</span>
                    <div class="kpi-foot">
                        {has_delta.then(|| view! { <span class=format!("chip chip-{chip}") title=title>{delta}</span> })}
                        <span inner_html=spark></span>
                    </div>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="widget">
            <div class="widget-head">
                <h2>{table.title.clone()}</h2>
                {table.note.clone().map(|n| view! { <span class="muted">{n}</span> })}
            </div>
            <div class=cols>{cards}</div>
        </div>
    }
}

/// A titled chart with its data in a table below.
#[component]
pub fn ChartCard(table: Table) -> impl IntoView {
    // Drawn at its card's width once in the browser (and again when the window resizes), so its
    // text stays 11 CSS px; the server's first paint draws it at the documents' width.
    let wrap = NodeRef::<leptos::html::Div>::new();
    let width = RwSignal::new(DEFAULT_WIDTH);
    let measure = move || {
        if let Some(el) = wrap.get_untracked() {
            let w = el.client_width() as f64;
            if w > 0.0 && (w - width.get_untracked()).abs() >= 1.0 {
                width.set(w);
            }
        }
    };
    Effect::new(move |_| {
        if wrap.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    let drawn = table.clone();
    let svg = move || drawn.chart.as_ref().map(|c| render_svg_at(&drawn, c, width.get())).unwrap_or_default();
    view! {
        <div class="card widget">
            <div class="widget-head">
                <h2>{table.title.clone()}</h2>
            </div>
            {table.note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            <div class="chart-wrap" node_ref=wrap inner_html=svg></div>
            <details>
                <summary class="muted">"Show data"</summary>
                <DataTable table=table.clone()/>
            </details>
        </div>
    }
}

/// A titled table.
#[component]
pub fn TableCard(table: Table) -> impl IntoView {
    view! {
        <div class="card widget">
            <div class="widget-head">
                <h2>{table.title.clone()}</h2>
            </div>
            {table.note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            <DataTable table=table.clone()/>
        </div>
    }
}

fn badge_class(key: &str, text: &str) -> Option<String> {
    matches!(key, "status" | "state" | "severity" | "flag")
        .then(|| format!("badge badge-{}", if text.is_empty() { "grey" } else { text }))
}

/// A duration as a person says it: `850 ms`, `4.2 s`, `9 min 37 s`, `2 h 05 min`.
pub fn spoken_duration(ms: f64) -> String {
    let ms = ms.max(0.0);
    if ms < 1_000.0 {
        return format!("{} ms", ms.round());
    }
    if ms < 60_000.0 {
        return format!("{:.1} s", ms / 1000.0);
    }
    let s = (ms / 1000.0).round() as i64;
    if s < 3_600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3_600, (s % 3_600) / 60)
    }
}

/// Rows shown at once; a longer table pages (the whole table is in every export).
pub const PAGE_ROWS: usize = 25;

/// The plain table of a source's rows, paged by [`PAGE_ROWS`] when longer (a 90-row segment ×
/// offer table would otherwise push everything below it off screen).
#[component]
pub fn DataTable(table: Table) -> impl IntoView {
    if table.rows.is_empty() {
        return view! { <p class="muted">"No data for this period."</p> }.into_any();
    }
    let cols: Vec<_> = table.columns.iter().filter(|c| !c.internal && c.key != "explanation").cloned().collect();
    let idx: Vec<usize> = cols.iter().filter_map(|c| table.col(&c.key)).collect();
    let head = cols
        .iter()
        .map(|c| {
            let num = !matches!(c.kind, ColumnKind::Text | ColumnKind::Date | ColumnKind::Timestamp);
            view! { <th class:num=num scope="col">{c.label.clone()}</th> }
        })
        .collect_view();
    let total = table.rows.len();
    let start = RwSignal::new(0usize);
    let title = table.title.clone();
    let table = std::sync::Arc::new(table);
    let cols = std::sync::Arc::new(cols);
    let body = move || {
        let from = start.get();
        (from..(from + PAGE_ROWS).min(total))
            .map(|ri| {
                let r = &table.rows[ri];
                let cells = cols
                    .iter()
                    .zip(&idx)
                    .map(|(c, i)| {
                        let num = !matches!(c.kind, ColumnKind::Text | ColumnKind::Date | ColumnKind::Timestamp);
                        // Instants in the reader's zone; durations as a person says them.
                        match (&r[*i], c.kind) {
                            (Cell::Text(at), ColumnKind::Timestamp) => {
                                return view! { <td><When at=Some(at.clone()) bare=true/></td> }.into_any()
                            }
                            (cell @ (Cell::Int(_) | Cell::Num(_)), ColumnKind::Duration) => {
                                let ms = cell.as_f64().unwrap_or_default();
                                let exact = format_cell(cell, c.kind);
                                return view! { <td class="num" title=exact>{spoken_duration(ms)}</td> }.into_any();
                            }
                            _ => {}
                        }
                        let text = display_cell(&table, ri, *i);
                        match badge_class(&c.key, &text) {
                            Some(cls) if !text.is_empty() && text != "—" => {
                                view! { <td><span class=cls>{text}</span></td> }.into_any()
                            }
                            _ => view! { <td class:num=num>{text}</td> }.into_any(),
                        }
                    })
                    .collect_view();
                view! { <tr>{cells}</tr> }
            })
            .collect_view()
    };
    let pager = (total > PAGE_ROWS).then(|| {
        let label = format!("Pages of {title}");
        let shown = move || {
            let from = start.get();
            format!("Rows {}–{} of {total}", from + 1, (from + PAGE_ROWS).min(total))
        };
        view! {
            <div class="pager" role="group" aria-label=label>
                <button
                    type="button"
                    class="btn btn-sm btn-ghost"
                    disabled=move || start.get() == 0
                    on:click=move |_| start.update(|s| *s = s.saturating_sub(PAGE_ROWS))
                >
                    "Previous"
                </button>
                <span class="muted" aria-live="polite" data-testid="pager-status">{shown}</span>
                <button
                    type="button"
                    class="btn btn-sm btn-ghost"
                    disabled=move || { start.get() + PAGE_ROWS >= total }
                    on:click=move |_| start.update(|s| *s += PAGE_ROWS)
                >
                    "Next"
                </button>
            </div>
        }
    });
    view! {
        <div class="table-wrap" tabindex="0">
            <table class="data">
                <thead>
                    <tr>{head}</tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        {pager}
    }
    .into_any()
}

/// The anomaly feed with an Explain popover per row.
#[component]
pub fn AnomalyFeed(table: Table) -> impl IntoView {
    let rows = (0..table.rows.len())
        .map(|i| {
            let get = |k: &str| table.cell(i, k).cloned().unwrap_or(Cell::Null);
            let sev = get("severity").as_text();
            let open = RwSignal::new(false);
            let explanation = get("explanation").as_text();
            let delta = get("delta_pct").as_f64().unwrap_or_default();
            view! {
                <li class="anomaly">
                    <span class=format!("badge badge-{sev}")>{sev.clone()}</span>
                    <div class="anomaly-main">
                        <strong>{get("metric").as_text()}</strong>
                        " · "
                        {get("dimension").as_text()}
                        <div class="muted">
                            {format!("{delta:+.1} % vs baseline · z = {:.1}", get("z_score").as_f64().unwrap_or_default())}
                        </div>
                        <Show when=move || open.get()>
                            <p class="explain" role="note">{explanation.clone()}</p>
                        </Show>
                    </div>
                    <button class="btn btn-sm btn-ghost" on:click=move |_| open.update(|o| *o = !*o) aria-expanded=move || open.get().to_string()>
                        "Explain"
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="card widget">
            <div class="widget-head">
                <h2>{table.title.clone()}</h2>
                <span class="muted">{format!("{} found", table.rows.len())}</span>
            </div>
            {table.note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            {if table.rows.is_empty() {
                view! { <p class="muted">"No anomalies in this period."</p> }.into_any()
            } else {
                view! { <ul class="anomalies">{rows}</ul> }.into_any()
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::spoken_duration;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(spoken_duration(850.4), "850 ms");
        assert_eq!(spoken_duration(4_249.0), "4.2 s");
        assert_eq!(spoken_duration(576_849.0), "9 min 37 s");
        assert_eq!(spoken_duration(7_530_000.0), "2 h 05 min");
        assert_eq!(spoken_duration(-3.0), "0 ms");
    }
}
