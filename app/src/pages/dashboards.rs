//! The dashboards: header with filters (kept in the URL) and the widgets.

use crate::model::{Dashboard, Period};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// `/dashboards/{key}`.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let dashboard = Memo::new(move |_| params.with(|p| p.get("key").and_then(|k| Dashboard::parse(&k))));
    let period = Memo::new(move |_| query.with(|q| q.get("period").and_then(|p| Period::parse(&p)).unwrap_or_default()));
    let navigate = use_navigate();
    let set_period = move |p: String| {
        if let Some(d) = dashboard.get_untracked() {
            navigate(&format!("/dashboards/{}?period={p}", d.key()), Default::default());
        }
    };
    view! {
        {move || match dashboard.get() {
            None => view! { <crate::pages::NotFound/> }.into_any(),
            Some(d) => {
                let set_period = set_period.clone();
                view! {
                    <Title text=format!("{} dashboard", d.title())/>
                    <div class="page-header">
                        <div>
                            <h1 data-testid="dashboard-title">{d.title()}</h1>
                            <p class="muted">{move || format!("Showing the {}", period.get().label())}</p>
                        </div>
                        <div class="header-controls">
                            <label class="control">
                                <span class="sr-only">"Period"</span>
                                <select
                                    data-testid="period"
                                    on:change=move |ev| set_period(event_target_value(&ev))
                                    prop:value=move || period.get().key()
                                >
                                    {Period::ALL
                                        .into_iter()
                                        .map(|p| view! { <option value=p.key()>{p.key()}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                        </div>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}
