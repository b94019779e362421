//! Save as Report: a modal pre-filled from the dashboard (name, formats, narrative, schedule
//! preset or custom cron with a live "next 5 runs" preview in the chosen zone, destinations) that
//! creates the template and its schedule in one transaction.

use super::toast::Toasts;
use crate::api::destinations::list_destinations;
use crate::api::reports::{create_template, preview_schedule};
use crate::model::reports::{NarrativeSettings, ScheduleInput, TemplateInput};
use crate::model::{AppError, Dashboard, Period};
use leptos::prelude::*;

/// The view being saved.
#[derive(Clone, Debug, PartialEq)]
pub struct SaveView {
    /// Dashboard.
    pub dashboard: Dashboard,
    /// Period.
    pub period: Period,
    /// Segment id.
    pub segment_id: Option<String>,
    /// Source parameters.
    pub params: Vec<(String, String)>,
}

const PRESETS: [(&str, &str, &str); 3] = [
    ("daily", "Daily 8am", "0 8 * * *"),
    ("weekly", "Weekly Mon 8am", "0 8 * * 1"),
    ("monthly", "Monthly 1st 8am", "0 8 1 * *"),
];

fn browser_zone() -> String {
    #[cfg(feature = "hydrate")]
    {
        if let Ok(v) = js_sys::eval("Intl.DateTimeFormat().resolvedOptions().timeZone") {
            if let Some(s) = v.as_string() {
                return s;
            }
        }
    }
    "UTC".to_string()
}

/// The button and its modal.
#[component]
pub fn SaveReport(view: Signal<SaveView>) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button class="btn btn-primary" data-testid="save-report" on:click=move |_| open.set(true)>"Save as Report"</button>
        <Show when=move || open.get()>
            <SaveModal view=view open=open/>
        </Show>
    }
}

#[component]
fn SaveModal(view: Signal<SaveView>, open: RwSignal<bool>) -> impl IntoView {
    let v = view.get_untracked();
    let name = RwSignal::new(format!("{} — {}", v.dashboard.title(), v.period.label()));
    let formats = RwSignal::new(vec!["pdf".to_string()]);
    let narrative = RwSignal::new(true);
    let prompt = RwSignal::new(String::new());
    let preset = RwSignal::new("weekly".to_string());
    let custom = RwSignal::new("0 8 * * 1".to_string());
    let zone = RwSignal::new(browser_zone());
    let chosen = RwSignal::new(Vec::<String>::new());
    let cron = Memo::new(move |_| match PRESETS.iter().find(|p| p.0 == preset.get()) {
        Some(p) => p.2.to_string(),
        None => custom.get(),
    });
    let next = Resource::new(move || (cron.get(), zone.get()), |(c, z)| preview_schedule(c, z));
    let dests = Resource::new(|| (), |_| list_destinations());
    let toasts = use_context::<Toasts>();
    let save = Action::new(move |input: &TemplateInput| create_template(input.clone()));
    Effect::new(move |_| {
        if let Some(Ok(t)) = save.value().get() {
            open.set(false);
            if let Some(ts) = toasts {
                ts.show(
                    format!("Saved “{}”.", t.name),
                    false,
                    Some((format!("/settings/reports/{}", t.id), "Open the report".into())),
                );
            }
        }
    });
    let submit = move |_| {
        let v = view.get_untracked();
        let input = TemplateInput {
            name: Some(name.get_untracked()),
            dashboard: Some(v.dashboard.key().into()),
            period: Some(v.period.key().into()),
            segment_id: v.segment_id.clone(),
            params: Some(v.params.iter().cloned().collect()),
            formats: Some(formats.get_untracked()),
            narrative: Some(NarrativeSettings {
                enabled: narrative.get_untracked(),
                prompt: Some(prompt.get_untracked()).filter(|p| !p.trim().is_empty()),
            }),
            fallback_destinations: Some(Vec::new()),
            enabled: Some(true),
            schedule: Some(ScheduleInput {
                template_id: None,
                name: Some(
                    PRESETS.iter().find(|p| p.0 == preset.get_untracked()).map(|p| p.1).unwrap_or("Custom").to_string(),
                ),
                cron_expression: Some(cron.get_untracked()),
                timezone: Some(zone.get_untracked()),
                destinations: Some(chosen.get_untracked()),
                enabled: Some(true),
            }),
        };
        save.dispatch(input);
    };
    let field_error = move |field: &'static str| {
        save.value().get().and_then(|r| r.err()).and_then(|e: AppError| {
            e.details
                .iter()
                .find(|d| d.field == field || d.field.starts_with(&format!("{field}[")))
                .map(|d| d.message.clone())
        })
    };
    let fmt_box = move |key: &'static str, label: &'static str| {
        view! {
            <label class="check">
                <input type="checkbox" data-testid=format!("format-{key}") prop:checked=move || formats.with(|f| f.iter().any(|x| x == key))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        formats.update(|f| { f.retain(|x| x != key); if on { f.push(key.to_string()); } });
                    }/>
                {label}
            </label>
        }
    };
    view! {
        <div class="modal-backdrop" role="dialog" aria-modal="true" aria-labelledby="save-title">
            <div class="modal" data-testid="save-modal">
                <h2 id="save-title">"Save as Report"</h2>
                <div class="form">
                    <label>"Name"
                        <input type="text" maxlength="200" data-testid="report-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    {move || field_error("name").map(|m| view! { <span class="field-error">{m}</span> })}
                    <fieldset class="checks"><legend>"Formats"</legend>
                        {fmt_box("pdf", "PDF")}{fmt_box("csv", "CSV")}{fmt_box("md", "Markdown")}{fmt_box("html", "HTML")}
                    </fieldset>
                    {move || field_error("formats").map(|m| view! { <span class="field-error">{m}</span> })}
                    <label class="check">
                        <input type="checkbox" prop:checked=move || narrative.get() on:change=move |ev| narrative.set(event_target_checked(&ev))/>
                        "Narrative (executive summary and takeaways)"
                    </label>
                    <Show when=move || narrative.get()>
                        <label>"Prompt addendum (optional)"
                            <textarea rows="2" prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
                        </label>
                    </Show>
                    <div class="grid grid-2">
                        <label>"Schedule"
                            <select data-testid="schedule-preset" prop:value=move || preset.get() on:change=move |ev| preset.set(event_target_value(&ev))>
                                {PRESETS.iter().map(|(k, l, _)| view! { <option value=*k>{*l}</option> }).collect_view()}
                                <option value="custom">"Custom (cron)"</option>
                            </select>
                        </label>
                        <label>"Time zone"
                            <input type="text" data-testid="schedule-zone" prop:value=move || zone.get() on:input=move |ev| zone.set(event_target_value(&ev))/>
                        </label>
                    </div>
                    <Show when=move || preset.get() == "custom">
                        <label>"Cron expression (minute hour day-of-month month day-of-week)"
                            <input type="text" class="mono" data-testid="schedule-cron" prop:value=move || custom.get() on:input=move |ev| custom.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                    <div class="preview" data-testid="next-runs">
                        <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                            {move || next.get().map(|r| match r {
                                Ok(list) => view! {
                                    <span class="muted">"Next runs: "</span>
                                    <ul class="next-runs">{list.into_iter().map(|t| view! { <li class="mono">{t}</li> }).collect_view()}</ul>
                                }.into_any(),
                                Err(e) => view! { <span class="field-error" role="alert">{e.message}</span> }.into_any(),
                            })}
                        </Transition>
                    </div>
                    {move || field_error("schedule.cronExpression").or_else(|| field_error("schedule.timezone")).map(|m| view! { <span class="field-error">{m}</span> })}
                    <fieldset class="checks"><legend>"Destinations"</legend>
                        <Transition fallback=|| ()>
                            {move || dests.get().map(|r| match r {
                                Ok(list) if list.is_empty() => view! { <span class="muted">"No destinations yet — you can still run it on demand."</span> }.into_any(),
                                Ok(list) => list.into_iter().filter(|d| d.enabled).map(|d| {
                                    let id = d.id.clone();
                                    let id2 = d.id.clone();
                                    view! {
                                        <label class="check">
                                            <input type="checkbox" data-testid=format!("dest-{}", d.name) prop:checked=move || chosen.with(|c| c.contains(&id))
                                                on:change=move |ev| { let on = event_target_checked(&ev); let id = id2.clone(); chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } }); }/>
                                            {format!("{} ({})", d.name, d.kind)}
                                        </label>
                                    }
                                }).collect_view().into_any(),
                                Err(e) => view! { <span class="field-error">{e.message}</span> }.into_any(),
                            })}
                        </Transition>
                    </fieldset>
                    {move || match save.value().get() { Some(Err(e)) if e.details.is_empty() => Some(view! { <p class="form-error" role="alert">{e.message}</p> }), _ => None }}
                </div>
                <div class="header-controls" style="margin-top:14px;justify-content:flex-end">
                    <button class="btn btn-ghost" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="btn btn-primary" data-testid="save-submit" disabled=move || save.pending().get() on:click=submit>
                        {move || if save.pending().get() { "Saving…" } else { "Save report" }}
                    </button>
                </div>
            </div>
        </div>
    }
}
