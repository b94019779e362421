//! The dashboards: a header with period and segment filters (kept in the URL query so a link
//! reproduces the view), then one widget per data source. Refreshes every 30 s keeping filters.

use crate::api::dashboards::get_dashboard;
use crate::components::export_menu::{ExportMenu, ExportView};
use crate::components::save_report::{SaveReport, SaveView};
use crate::components::widgets::Widget;
use crate::model::{Dashboard, DashboardData, Period};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// How often dashboards reload their data.
pub const REFRESH_SECS: u64 = 30;

/// The fallback text of the narrative card (PRODUCT §3).
pub const NARRATIVE_UNAVAILABLE: &str =
    "Narrative is unavailable right now — see the KPI cards below for the raw numbers";

/// The filters of a dashboard view, as in the URL query.
#[derive(Clone, Debug, PartialEq, Default)]
struct Filters {
    period: Option<String>,
    segment: Option<String>,
    group_by: Option<String>,
    model: Option<String>,
}

impl Filters {
    /// The data-source parameters on screen (`groupBy`, `model`), as reports and exports bake them in.
    fn params(&self) -> Vec<(String, String)> {
        let on_screen = [("groupBy", &self.group_by), ("model", &self.model)];
        on_screen.into_iter().filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v))).collect()
    }

    fn href(&self, key: &str) -> String {
        let mut q = Vec::new();
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                q.push(format!("{k}={}", urlencode(v)));
            }
        };
        add("period", &self.period);
        add("segmentId", &self.segment);
        add("groupBy", &self.group_by);
        add("model", &self.model);
        if q.is_empty() {
            format!("/dashboards/{key}")
        } else {
            format!("/dashboards/{key}?{}", q.join("&"))
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Business: what offer performance can be grouped by (the engine's `groupBy`).
const GROUP_BY: [(&str, &str); 4] =
    [("offer", "By offer"), ("channel", "By channel"), ("category", "By category"), ("segment", "By segment")];

/// `/dashboards/{key}`.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| params.with(|p| p.get("key").unwrap_or_default()));
    let filters = Memo::new(move |_| {
        query.with(|q| Filters {
            period: q.get("period"),
            // One name for the segment filter: `segmentId`, with `segment` accepted as an alias.
            segment: q.get("segmentId").or_else(|| q.get("segment")),
            group_by: q.get("groupBy"),
            model: q.get("model"),
        })
    });
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        set_interval(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(REFRESH_SECS));
    });
    let data = Resource::new(
        move || (key.get(), filters.get(), tick.get()),
        |(k, f, _)| get_dashboard(k, f.period, f.segment, f.group_by, f.model),
    );
    let navigate = use_navigate();
    let go = move |f: Filters| navigate(&f.href(&key.get_untracked()), Default::default());
    view! {
        {move || match Dashboard::parse(&key.get()) {
            None => view! { <crate::pages::NotFound/> }.into_any(),
            Some(d) => {
                let go = go.clone();
                view! {
                    <Title text=format!("{} dashboard", d.title())/>
                    <Header dashboard=d filters=filters data=data go=go/>
                    {(d == Dashboard::Executive).then(|| view! { <NarrativeCard filters=filters/> })}
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || data.get().map(|r| match r {
                            Ok(dd) => view! { <Widgets data=dd/> }.into_any(),
                            Err(e) => view! { <div class="card"><p class="widget-error" role="alert">{e.message}</p></div> }.into_any(),
                        })}
                    </Transition>
                }
                    .into_any()
            }
        }}
    }
}

#[component]
fn Header(
    dashboard: Dashboard,
    filters: Memo<Filters>,
    data: Resource<Result<DashboardData, crate::model::AppError>>,
    go: impl Fn(Filters) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let period = move || filters.with(|f| f.period.as_deref().and_then(Period::parse).unwrap_or_default());
    let go_period = go.clone();
    let go_segment = go.clone();
    let go_group = go.clone();
    let go_model = go;
    let range = move || {
        data.get().and_then(|r| r.ok()).map(|d| format!("{} to {} ({})", d.from, d.to, d.timezone)).unwrap_or_default()
    };
    let segments = move || data.get().and_then(|r| r.ok()).map(|d| d.segments).unwrap_or_default();
    let me = use_context::<crate::components::shell::CurrentUser>();
    let can_save = move || {
        me.and_then(|m| m.0.get())
            .and_then(|r| r.ok())
            .flatten()
            .is_some_and(|m| m.role.allows(crate::model::Role::Editor))
    };
    let save_view = Signal::derive(move || {
        let f = filters.get();
        let segment_name =
            f.segment.as_ref().and_then(|id| segments().into_iter().find(|s| &s.id == id).map(|s| s.name));
        SaveView {
            dashboard,
            period: f.period.as_deref().and_then(Period::parse).unwrap_or_default(),
            params: f.params(),
            segment_id: f.segment,
            segment_name,
        }
    });
    let export_view = Signal::derive(move || {
        let f = filters.get();
        ExportView {
            dashboard: dashboard.key().to_string(),
            params: f.params(),
            period: f.period,
            segment_id: f.segment,
        }
    });
    view! {
        <div class="page-header">
            <div>
                <h1 data-testid="dashboard-title">{dashboard.title()}</h1>
                <p class="period-range" data-testid="period-range">
                    {move || format!("Showing the {}", period().label())}
                    " · "
                    <Transition fallback=|| ()>{range}</Transition>
                </p>
            </div>
            <div class="header-controls">
                <label class="control">
                    <span class="sr-only">"Period"</span>
                    <select
                        data-testid="period"
                        aria-label="Period"
                        on:change=move |ev| {
                            let mut f = filters.get_untracked();
                            f.period = Some(event_target_value(&ev));
                            go_period(f)
                        }
                        prop:value=move || period().key()
                    >
                        {Period::ALL.into_iter().map(|p| view! { <option value=p.key()>{p.key()}</option> }).collect_view()}
                    </select>
                </label>
                {dashboard.supports_segment().then(|| {
                    let go_segment = go_segment.clone();
                    view! {
                        <label class="control">
                            <span class="sr-only">"Segment"</span>
                            // Inside a Transition: the options come from the data resource, so the
                            // server and the browser render the same markup during hydration.
                            <Transition fallback=|| view! { <select disabled aria-label="Segment"><option>"All customers"</option></select> }>
                                {
                                    let go_segment = go_segment.clone();
                                    move || {
                                        let go_segment = go_segment.clone();
                                        data.get().map(move |_| {
                                            let selected = filters.with_untracked(|f| f.segment.clone().unwrap_or_default());
                                            view! {
                                                <select
                                                    data-testid="segment"
                                                    aria-label="Segment"
                                                    on:change=move |ev| {
                                                        let mut f = filters.get_untracked();
                                                        let v = event_target_value(&ev);
                                                        f.segment = (!v.is_empty()).then_some(v);
                                                        go_segment(f)
                                                    }
                                                >
                                                    <option value="">"All customers"</option>
                                                    {segments().into_iter().map(|s| {
                                                        let sel = s.id == selected;
                                                        view! { <option value=s.id.clone() selected=sel>{s.name.clone()}</option> }
                                                    }).collect_view()}
                                                </select>
                                            }
                                        })
                                    }
                                }
                            </Transition>
                        </label>
                    }
                })}
                {(dashboard == Dashboard::Business).then(|| {
                    let go = go_group.clone();
                    let pick = move |v: String| {
                        let mut f = filters.get_untracked();
                        f.group_by = Some(v);
                        go(f)
                    };
                    let value = Signal::derive(move || filters.with(|f| f.group_by.clone().unwrap_or_else(|| "offer".into())));
                    view! { <ChoiceControl label="Group offer performance by" testid="group-by" choices=&GROUP_BY value=value pick=pick/> }
                })}
                {(dashboard == Dashboard::Attribution).then(|| {
                    let go = go_model.clone();
                    let pick = move |v: String| {
                        let mut f = filters.get_untracked();
                        f.model = Some(v);
                        go(f)
                    };
                    let value = Signal::derive(move || filters.with(|f| f.model.clone().unwrap_or_else(|| "linear".into())));
                    view! {
                        <ChoiceControl
                            label="Attribution model"
                            testid="attribution-model"
                            choices=&crate::model::ATTRIBUTION_MODELS
                            value=value
                            pick=pick
                        />
                    }
                })}
                <div class="header-actions" data-testid="header-actions">
                    <ExportMenu view=export_view/>
                    <Transition fallback=|| ()>{move || can_save().then(|| view! { <SaveReport view=save_view/> })}</Transition>
                </div>
            </div>
        </div>
    }
}

/// A labelled select over a fixed list of (value, label) choices, as the dashboard header shows
/// its view options (Business' group-by, Attribution's model).
#[component]
fn ChoiceControl(
    label: &'static str,
    testid: &'static str,
    choices: &'static [(&'static str, &'static str)],
    value: Signal<String>,
    pick: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label class="control">
            <span class="sr-only">{label}</span>
            <select data-testid=testid aria-label=label on:change=move |ev| pick(event_target_value(&ev)) prop:value=value>
                // `selected` as well as `prop:value`: the server's first paint shows the choice too.
                {choices.iter().map(|(k, l)| view! { <option value=*k selected=move || value.get() == *k>{*l}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn NarrativeCard(filters: Memo<Filters>) -> impl IntoView {
    let summary =
        Resource::new(move || filters.get(), |f| crate::api::dashboards::executive_narrative(f.period, f.segment));
    view! {
        <section class="card narrative" data-testid="narrative" style="margin-bottom:16px">
            <h2>"Executive summary"</h2>
            <Transition fallback=|| view! { <p class="muted">"Writing the summary…"</p> }>
                {move || summary.get().map(|r| match r {
                    Ok(Some(n)) => view! {
                        <p data-testid="narrative-text">{n.executive_summary.clone()}</p>
                        <ul class="takeaways">
                            {n.key_takeaways.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}
                        </ul>
                        <p class="muted small">{n.attribution()}</p>
                    }.into_any(),
                    _ => view! { <p class="muted">{NARRATIVE_UNAVAILABLE}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Widgets(data: DashboardData) -> impl IntoView {
    let specs = data.dashboard.widgets();
    let items = specs.iter().zip(data.widgets).map(|(spec, w)| view! { <Widget spec=*spec data=w/> }).collect_view();
    view! { <div class="dash-grid" data-generated-at=data.generated_at>{items}</div> }
}
