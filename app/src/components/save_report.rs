//! Save as Report: a modal pre-filled from the dashboard (name, formats, narrative, schedule
//! preset or custom cron with a live "next 5 runs" preview in the chosen zone, destinations) that
//! creates the template and its schedule in one transaction.

use super::toast::Toasts;
use crate::api::destinations::{list_destinations, preview_deliveries};
use crate::api::schedules::preview_schedule;
use crate::api::templates::{create_template, kpi_choices};
use crate::components::time::When;
use crate::model::reports::{
    DeliveryPreview, NarrativeSettings, PreviewInput, ScheduleInput, SendKind, SendWhen, Severity, TemplateInput,
};
use crate::model::{AppError, Dashboard, Orientation, PageSetup, PaperSize, Period};
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
    /// The segment's name, to show what the report is filtered to.
    pub segment_name: Option<String>,
    /// Source parameters.
    pub params: Vec<(String, String)>,
}

impl SaveView {
    /// What the report will be filtered to, in words: "Executive · Last 30 days · Segment: VIP".
    pub fn summary(&self) -> String {
        let period = self.period.label();
        let period = period[..1].to_uppercase() + &period[1..];
        let mut parts = vec![self.dashboard.title().to_string(), period];
        match (&self.segment_name, &self.segment_id) {
            (Some(n), _) => parts.push(format!("Segment: {n}")),
            (None, Some(id)) => parts.push(format!("Segment: {id}")),
            (None, None) => parts.push("All segments".to_string()),
        }
        for (k, v) in &self.params {
            let k = match k.as_str() {
                "groupBy" => "Grouped by",
                "model" => "Attribution model",
                other => other,
            };
            parts.push(format!("{k}: {}", v.replace('_', " ")));
        }
        parts.join(" · ")
    }
}

/// The schedule presets: (key, label, cron).
pub const PRESETS: [(&str, &str, &str); 3] = [
    ("daily", "Daily 8am", "0 8 * * *"),
    ("weekly", "Weekly Mon 8am", "0 8 * * 1"),
    ("monthly", "Monthly 1st 8am", "0 8 1 * *"),
];

/// The formats a person chooses from, in menu order, with their visible labels (Export ▾ and the
/// Save dialog alike).
pub const FORMATS: [(&str, &str); 5] =
    [("pdf", "PDF"), ("csv", "CSV"), ("md", "Markdown"), ("html", "HTML"), ("xlsx", "Excel")];

/// The cron expression of a preset key, or `custom` when the key is "custom" (or unknown).
pub fn preset_cron(preset: &str, custom: &str) -> String {
    match PRESETS.iter().find(|p| p.0 == preset) {
        Some(p) => p.2.to_string(),
        None => custom.to_string(),
    }
}

/// The preset key of a cron expression ("0 8 * * 1" → "weekly"), "custom" when none matches.
pub fn cron_preset(cron: &str) -> &'static str {
    let normalised = cron.split_whitespace().collect::<Vec<_>>().join(" ");
    PRESETS.iter().find(|p| p.2 == normalised).map(|p| p.0).unwrap_or("custom")
}

/// The schedule name of a preset key ("Custom" for a custom cron).
pub fn preset_name(preset: &str) -> &'static str {
    PRESETS.iter().find(|p| p.0 == preset).map(|p| p.1).unwrap_or("Custom")
}

/// The message of the first field error about `field` (or one of its items, `field[i]`).
pub fn field_message(error: &AppError, field: &str) -> Option<String> {
    let item = format!("{field}[");
    error.details.iter().find(|d| d.field == field || d.field.starts_with(&item)).map(|d| d.message.clone())
}

/// The browser's IANA time zone ("UTC" on the server): call it from event handlers or
/// components that only ever render on the client.
pub fn browser_zone() -> String {
    crate::components::time::reader_zone()
}

/// The button and its modal.
#[component]
pub fn SaveReport(view: Signal<SaveView>) -> impl IntoView {
    let open = RwSignal::new(false);
    let opener = NodeRef::<leptos::html::Button>::new();
    // Focus returns to the button when the dialog closes.
    Effect::new(move |was_open: Option<bool>| {
        let now = open.get();
        if was_open == Some(true) && !now {
            if let Some(b) = opener.get_untracked() {
                let _ = b.focus();
            }
        }
        now
    });
    view! {
        <button class="btn btn-primary" data-testid="save-report" node_ref=opener aria-haspopup="dialog" on:click=move |_| open.set(true)>"Save as Report"</button>
        <Show when=move || open.get()>
            <SaveModal view=view open=open/>
        </Show>
    }
}

/// The formats checkboxes (`format-pdf`, `format-csv`, …) and the `formats` field error.
#[component]
pub fn FormatsField(
    /// The chosen format keys.
    formats: RwSignal<Vec<String>>,
    /// The last save's error, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    /// Read only.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <fieldset class="checks"><legend>"Formats"</legend>
            {FORMATS.iter().map(|&(key, label)| view! {
                <label class="check">
                    <input type="checkbox" data-testid=format!("format-{key}") disabled=move || disabled.get()
                        prop:checked=move || formats.with(|f| f.iter().any(|x| x == key))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            formats.update(|f| { f.retain(|x| x != key); if on { f.push(key.to_string()); } });
                        }/>
                    {label}
                </label>
            }).collect_view()}
        </fieldset>
        {move || error.get().and_then(|e| field_message(&e, "formats")).map(|m| view! { <span class="field-error">{m}</span> })}
    }
}

/// The narrative checkbox and its optional prompt addendum, with the `narrative.prompt` error.
#[component]
pub fn NarrativeField(
    /// Write a narrative.
    enabled: RwSignal<bool>,
    /// The prompt addendum.
    prompt: RwSignal<String>,
    /// The last save's error, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    /// Read only.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" data-testid="narrative-enabled" disabled=move || disabled.get()
                prop:checked=move || enabled.get() on:change=move |ev| enabled.set(event_target_checked(&ev))/>
            "Narrative (executive summary and takeaways)"
        </label>
        <Show when=move || enabled.get()>
            <label>"Prompt addendum (optional)"
                <textarea rows="2" maxlength="2000" data-testid="narrative-prompt" disabled=move || disabled.get()
                    prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
            </label>
        </Show>
        {move || error.get().and_then(|e| field_message(&e, "narrative.prompt")).map(|m| view! { <span class="field-error">{m}</span> })}
    }
}

/// The page setup (paper, orientation) of the PDF and the printed HTML.
#[component]
pub fn PageFields(
    /// The setup.
    page: RwSignal<PageSetup>,
    /// Read only.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="grid grid-2">
            <label>"Paper size"
                <select disabled=move || disabled.get() on:change=move |ev| {
                    let size = if event_target_value(&ev) == "letter" { PaperSize::Letter } else { PaperSize::A4 };
                    page.update(|p| p.size = size);
                }>
                    <option value="a4" prop:selected=move || page.get().size == PaperSize::A4>"A4"</option>
                    <option value="letter" prop:selected=move || page.get().size == PaperSize::Letter>"Letter"</option>
                </select>
            </label>
            <label>"Orientation"
                <select disabled=move || disabled.get() on:change=move |ev| {
                    let o = if event_target_value(&ev) == "landscape" { Orientation::Landscape } else { Orientation::Portrait };
                    page.update(|p| p.orientation = o);
                }>
                    <option value="portrait" prop:selected=move || page.get().orientation == Orientation::Portrait>"Portrait"</option>
                    <option value="landscape" prop:selected=move || page.get().orientation == Orientation::Landscape>"Landscape"</option>
                </select>
            </label>
        </div>
    }
}

/// The send condition: always, or only when there is news (an anomaly or problem of a chosen
/// severity, a KPI moving more than N %, any data at all). A run that does not send is recorded
/// as skipped with its reason.
#[component]
pub fn SendWhenFields(
    /// The condition.
    send: RwSignal<SendWhen>,
    /// The dashboard, for the KPIs it has.
    dashboard: Dashboard,
    /// The period, for the KPIs it has.
    period: Period,
    /// The last save's error, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    /// Read only.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let kind = move || send.get().kind;
    let kpis = Resource::new(
        move || send.get().kind == SendKind::KpiChange,
        move |wanted| async move {
            if wanted {
                kpi_choices(dashboard.key().to_string(), period.key().to_string()).await
            } else {
                Ok(Vec::new())
            }
        },
    );
    let field_error = move |f: &str| error.get().and_then(|e| field_message(&e, f));
    view! {
        // A label beside (not around) the select, so its name is "Send" and not its options too.
        <div class="field">
            <label for="send-when">"Send"</label>
            <select id="send-when" data-testid="send-when" disabled=move || disabled.get() on:change=move |ev| {
                let k = match event_target_value(&ev).as_str() {
                    "anomaly" => SendKind::Anomaly,
                    "kpiChange" => SendKind::KpiChange,
                    "hasData" => SendKind::HasData,
                    _ => SendKind::Always,
                };
                send.update(|s| {
                    s.kind = k;
                    if k == SendKind::Anomaly && s.min_severity.is_none() { s.min_severity = Some(Severity::Warning); }
                    if k == SendKind::KpiChange && s.change_pct.is_none() { s.change_pct = Some(10.0); }
                });
            }>
                <option value="always" prop:selected=move || kind() == SendKind::Always>"Always"</option>
                <option value="anomaly" prop:selected=move || kind() == SendKind::Anomaly>"Only when an anomaly or problem is found"</option>
                <option value="kpiChange" prop:selected=move || kind() == SendKind::KpiChange>"Only when a KPI moves against the previous period"</option>
                <option value="hasData" prop:selected=move || kind() == SendKind::HasData>"Only when the report has data"</option>
            </select>
        </div>
        <Show when=move || kind() == SendKind::Anomaly>
            <label>"Least severity that sends"
                <select disabled=move || disabled.get() on:change=move |ev| {
                    let sev = if event_target_value(&ev) == "critical" { Severity::Critical } else { Severity::Warning };
                    send.update(|s| s.min_severity = Some(sev));
                }>
                    <option value="warning" prop:selected=move || send.get().min_severity != Some(Severity::Critical)>"Warning or critical"</option>
                    <option value="critical" prop:selected=move || send.get().min_severity == Some(Severity::Critical)>"Critical only"</option>
                </select>
            </label>
        </Show>
        <Show when=move || kind() == SendKind::KpiChange>
            <div class="grid grid-2">
                <Transition fallback=|| view! { <span class="muted">"Loading the KPIs…"</span> }>
                    {move || kpis.get().map(|r| {
                        let list = r.unwrap_or_default();
                        view! {
                            <label>"KPI"
                                <select disabled=move || disabled.get() on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    send.update(|s| s.kpi = Some(v).filter(|k| !k.is_empty()));
                                }>
                                    <option value="" prop:selected=move || send.get().kpi.is_none()>"Choose a KPI"</option>
                                    {list.into_iter().map(|(k, l)| {
                                        let key = k.clone();
                                        view! { <option value=k prop:selected=move || send.get().kpi.as_deref() == Some(key.as_str())>{l}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                        }
                    })}
                </Transition>
                <label>"Moves by more than (%)"
                    <input type="number" min="0.1" step="0.1" disabled=move || disabled.get()
                        prop:value=move || send.get().change_pct.map(|p| p.to_string()).unwrap_or_default()
                        on:input=move |ev| { let v = event_target_value(&ev).parse::<f64>().ok(); send.update(|s| s.change_pct = v); }/>
                </label>
            </div>
            {move || field_error("sendWhen.kpi").map(|m| view! { <span class="field-error">{m}</span> })}
            {move || field_error("sendWhen.changePct").map(|m| view! { <span class="field-error">{m}</span> })}
        </Show>
        {move || (kind() != SendKind::Always).then(|| view! {
            <p class="muted small">"A run that finds no news sends nothing and is listed as skipped, with the reason."</p>
        })}
    }
}

/// "Preview": for each chosen destination, exactly what it would receive — the Slack message and
/// the Teams card drawn as the apps lay them out, the email as rendered HTML with its subject,
/// sender, recipients and attachments, the webhook's JSON and headers — computed by the server's
/// delivery code with nothing sent and secrets redacted.
#[component]
pub fn DeliveryPreviews(
    /// The chosen destination ids.
    #[prop(into)]
    ids: Signal<Vec<String>>,
    /// The template being saved or edited (or a saved one by id).
    input: Callback<(), PreviewInput>,
) -> impl IntoView {
    let run =
        Action::new(move |(ids, input): &(Vec<String>, PreviewInput)| preview_deliveries(ids.clone(), input.clone()));
    let open = RwSignal::new(false);
    let start = move |_| {
        open.set(true);
        run.dispatch((ids.get_untracked(), input.run(())));
    };
    view! {
        <div class="previews">
            <button type="button" class="btn" data-testid="preview-deliveries" disabled=move || ids.get().is_empty() || run.pending().get() on:click=start>
                {move || if run.pending().get() { "Preparing the preview…" } else { "Preview what each destination receives" }}
            </button>
            {move || ids.get().is_empty().then(|| view! { <span class="muted small">" Choose a destination to preview it."</span> })}
            <Show when=move || open.get()>
                <div class="preview-list" role="region" aria-label="Delivery preview" aria-live="polite">
                    {move || run.value().get().map(|r| match r {
                        Err(e) => view! { <p class="field-error" role="alert">{e.message}</p> }.into_any(),
                        Ok(list) => list.into_iter().map(|p| view! { <PreviewCard preview=p/> }).collect_view().into_any(),
                    })}
                </div>
            </Show>
        </div>
    }
}

/// One destination's preview.
#[component]
fn PreviewCard(preview: DeliveryPreview) -> impl IntoView {
    let p = preview;
    let heading = format!("{} ({})", p.name, p.kind);
    let title = heading.clone();
    let files = p.attachments.clone();
    let headers = p.headers.clone();
    let json = p.json.as_ref().map(|j| serde_json::to_string_pretty(j).unwrap_or_default());
    let kind = p.kind.clone();
    view! {
        <section class="card preview-card" aria-label=heading.clone() data-kind=kind.clone()>
            <h3>{title}</h3>
            {p.warning.clone().map(|w| view! { <p class="banner banner-warn" role="status">{w}</p> })}
            {p.subject.clone().map(|s| view! {
                <dl class="mail-head">
                    <dt>"Subject"</dt><dd data-testid="preview-subject">{s}</dd>
                    <dt>"From"</dt><dd>{p.from.clone().unwrap_or_default()}</dd>
                    <dt>"To"</dt><dd>{p.recipients.join(", ")}</dd>
                    {p.reply_to.clone().map(|r| view! { <dt>"Reply-To"</dt><dd>{r}</dd> })}
                </dl>
            })}
            {p.drawn.clone().map(|html| view! { <div class=format!("drawn drawn-{kind}") inner_html=html></div> })}
            {p.html.clone().map(|html| view! {
                <iframe class="mail-body" title="Email body" sandbox="" srcdoc=html></iframe>
            })}
            {(!headers.is_empty()).then(|| view! {
                <table class="data"><caption>"Headers"</caption>
                    <tbody>{headers.into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td class="mono">{v}</td></tr> }).collect_view()}</tbody>
                </table>
            })}
            {json.map(|j| view! { <details open><summary>"JSON body"</summary><pre class="mono json">{j}</pre></details> })}
            {(!files.is_empty()).then(|| view! {
                <p class="muted">"Attachments: "{files.iter().map(|f| format!("{} ({}, {} bytes)", f.filename, f.media_type, f.size_bytes)).collect::<Vec<_>>().join("; ")}</p>
            })}
            {(!p.links.is_empty()).then(|| view! { <p class="muted">"Linked (signed, expiring): "{p.links.join(", ")}</p> })}
        </section>
    }
}

/// A schedule's fields: preset (or custom cron), time zone, the live "next 5 runs" preview and
/// the destinations. Field errors are looked up as `{prefix}cronExpression`, `{prefix}timezone`
/// and `{prefix}destinations` ("schedule." inside a template body, "" for the schedule endpoints).
#[component]
pub fn ScheduleFields(
    /// A key of [`PRESETS`] or "custom".
    preset: RwSignal<String>,
    /// The custom cron expression.
    custom: RwSignal<String>,
    /// The IANA time zone.
    zone: RwSignal<String>,
    /// The chosen destination ids.
    chosen: RwSignal<Vec<String>>,
    /// The last save's error, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    /// The prefix of the field names in the error details.
    #[prop(optional)]
    prefix: &'static str,
) -> impl IntoView {
    let cron = Memo::new(move |_| preset_cron(&preset.get(), &custom.get()));
    let next = Resource::new(move || (cron.get(), zone.get()), |(c, z)| preview_schedule(c, z));
    let dests = Resource::new(|| (), |_| list_destinations());
    let field_error =
        move |field: &'static str| error.get().and_then(|e| field_message(&e, &format!("{prefix}{field}")));
    view! {
        <div class="grid grid-2">
            <label>"Schedule"
                <select data-testid="schedule-preset" prop:value=move || preset.get() on:change=move |ev| preset.set(event_target_value(&ev))>
                    {PRESETS.iter().map(|&(k, l, _)| view! { <option value=k prop:selected=move || preset.get() == k>{l}</option> }).collect_view()}
                    <option value="custom" prop:selected=move || preset.get() == "custom">"Custom (cron)"</option>
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
                        <span class="muted">{move || format!("Next runs ({}): ", zone.get())}</span>
                        <ul class="next-runs">{list.into_iter().map(|t| view! { <li><When at=Some(t) zone=zone.get_untracked() bare=true/></li> }).collect_view()}</ul>
                    }.into_any(),
                    Err(e) => view! { <span class="field-error" role="alert">{e.message}</span> }.into_any(),
                })}
            </Transition>
        </div>
        {move || field_error("cronExpression").or_else(|| field_error("timezone")).map(|m| view! { <span class="field-error">{m}</span> })}
        <fieldset class="checks"><legend>"Destinations"</legend>
            <Transition fallback=|| ()>
                {move || dests.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <span class="muted">"No destinations yet — you can still run it on demand."</span> }.into_any(),
                    Ok(list) => list.into_iter().filter(|d| d.enabled || chosen.with_untracked(|c| c.contains(&d.id))).map(|d| {
                        let id = d.id.clone();
                        let id2 = d.id.clone();
                        let label = if d.enabled { format!("{} ({})", d.name, d.kind) } else { format!("{} ({}, disabled)", d.name, d.kind) };
                        view! {
                            <label class="check">
                                <input type="checkbox" data-testid=format!("dest-{}", d.name) prop:checked=move || chosen.with(|c| c.contains(&id))
                                    on:change=move |ev| { let on = event_target_checked(&ev); let id = id2.clone(); chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } }); }/>
                                {label}
                            </label>
                        }
                    }).collect_view().into_any(),
                    Err(e) => view! { <span class="field-error">{e.message}</span> }.into_any(),
                })}
            </Transition>
        </fieldset>
        {move || field_error("destinations").map(|m| view! { <span class="field-error">{m}</span> })}
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
    let page = RwSignal::new(PageSetup::default());
    let send = RwSignal::new(SendWhen::default());
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
    let build = move || {
        let v = view.get_untracked();
        let preset_key = preset.get_untracked();
        TemplateInput {
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
            page: Some(page.get_untracked()),
            send_when: Some(send.get_untracked()),
            schedule: Some(ScheduleInput {
                template_id: None,
                name: Some(preset_name(&preset_key).to_string()),
                cron_expression: Some(preset_cron(&preset_key, &custom.get_untracked())),
                timezone: Some(zone.get_untracked()),
                destinations: Some(chosen.get_untracked()),
                enabled: Some(true),
            }),
        }
    };
    let submit = move |_| {
        save.dispatch(build());
    };
    let preview_input = Callback::new(move |()| PreviewInput { template_id: None, template: build() });
    let error = Signal::derive(move || save.value().get().and_then(|r| r.err()));
    // Every error the server gives that no field below shows (e.g. the schedule cap) is shown at
    // the top of the form.
    let shown = [
        "name",
        "formats",
        "narrative.prompt",
        "sendWhen.kpi",
        "sendWhen.changePct",
        "schedule.cronExpression",
        "schedule.timezone",
        "schedule.destinations",
    ];
    let general = move || {
        error.get().and_then(|e| {
            let unshown: Vec<String> = e
                .details
                .iter()
                .filter(|d| !shown.iter().any(|f| d.field == *f || d.field.starts_with(&format!("{f}["))))
                .map(|d| format!("{}: {}", d.field, d.message))
                .collect();
            if e.details.is_empty() {
                Some(e.message.clone())
            } else if unshown.is_empty() {
                None
            } else {
                Some(unshown.join("; "))
            }
        })
    };
    let dialog = NodeRef::<leptos::html::Div>::new();
    let first = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    // Escape closes; Tab and Shift+Tab stay inside the dialog.
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            open.set(false);
        }
        "Tab" => keep_focus_inside(dialog, &ev),
        _ => {}
    };
    let summary = v.summary();
    view! {
        <div class="modal-backdrop" on:keydown=on_key>
            <div class="modal" data-testid="save-modal" role="dialog" aria-modal="true" aria-labelledby="save-title" aria-describedby="save-filters" node_ref=dialog>
                <h2 id="save-title">"Save as Report"</h2>
                <p class="muted" id="save-filters" data-testid="save-filters">"Filters saved with the report: "<strong>{summary}</strong></p>
                {move || general().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <div class="form">
                    <label>"Name"
                        <input type="text" maxlength="200" data-testid="report-name" node_ref=first prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    {move || error.get().and_then(|e| field_message(&e, "name")).map(|m| view! { <span class="field-error">{m}</span> })}
                    <FormatsField formats=formats error=error/>
                    <NarrativeField enabled=narrative prompt=prompt error=error/>
                    <PageFields page=page/>
                    <SendWhenFields send=send dashboard=v.dashboard period=v.period error=error/>
                    <ScheduleFields preset=preset custom=custom zone=zone chosen=chosen error=error prefix="schedule."/>
                    <DeliveryPreviews ids=chosen input=preview_input/>
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

/// Tab from the dialog's last control goes to its first, Shift+Tab from the first to the last.
fn keep_focus_inside(dialog: NodeRef<leptos::html::Div>, ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(root) = dialog.get_untracked() else { return };
        let root: &web_sys::Element = root.as_ref();
        let Ok(list) = root.query_selector_all(
            "button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), a[href]",
        ) else {
            return;
        };
        let els: Vec<web_sys::HtmlElement> = (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect();
        let (Some(head), Some(tail)) = (els.first(), els.last()) else { return };
        let active = document().active_element();
        let is = |el: &web_sys::HtmlElement| {
            active.as_ref().is_some_and(|a| {
                let e: &web_sys::Element = el.as_ref();
                a == e
            })
        };
        if ev.shift_key() && is(head) {
            ev.prevent_default();
            let _ = tail.focus();
        } else if !ev.shift_key() && is(tail) {
            ev.prevent_default();
            let _ = head.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dialog, ev);
}
