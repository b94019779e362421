//! Settings → Reports: the saved reports list, a report's page with its Details, Schedule and
//! Runs tabs, and the run page (the link deliveries carry). Viewers read; editors act.

use crate::api::destinations::{list_destinations, DestinationRow};
use crate::api::runs::{get_run, list_runs, resend_delivery, run_now, run_report};
use crate::api::schedules::{create_schedule, delete_schedule, update_schedule};
use crate::api::templates::{delete_template, get_template, list_templates, update_template};
use crate::components::save_report::{
    browser_zone, cron_preset, field_message, preset_cron, preset_name, DeliveryPreviews, FormatsField, NarrativeField,
    PageFields, ScheduleFields, SendWhenFields, PRESETS,
};
use crate::components::shell::CurrentUser;
use crate::components::time::When;
use crate::components::toast::Toasts;
use crate::components::widgets::{ChartCard, KpiCards, TableCard};
use crate::model::reports::{
    DeliveryView, NarrativeSettings, PreviewInput, RunView, ScheduleInput, ScheduleView, TemplateInput, TemplateView,
};
use crate::model::runs::{RunPhase, RunStatus, Trigger};
use crate::model::{AppError, Dashboard, Period, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

fn can_edit() -> Memo<bool> {
    let me = use_context::<CurrentUser>();
    Memo::new(move |_| {
        me.and_then(|m| m.0.get()).and_then(|r| r.ok()).flatten().is_some_and(|m| m.role.allows(Role::Editor))
    })
}

/// Polls a run until it finishes (each state goes to `update`), then toasts the per-destination
/// result.
fn watch_run(
    run_id: String,
    update: impl Fn(RunView) + 'static,
    toasts: Option<Toasts>,
    done: impl Fn() + Clone + 'static,
) {
    leptos::task::spawn_local(async move {
        for _ in 0..1200 {
            if let Ok(r) = get_run(run_id.clone()).await {
                let finished = r.phase == RunPhase::Finished;
                update(r.clone());
                if finished {
                    if let Some(t) = toasts {
                        let per: Vec<String> =
                            r.deliveries.iter().map(|d| format!("{}: {}", d.name, d.status)).collect();
                        let text = if let Some(why) = &r.skip_reason {
                            format!("Run skipped — {why}")
                        } else if per.is_empty() {
                            format!("Run {}: no destinations.", r.status)
                        } else {
                            format!("Run {} — {}", r.status, per.join(", "))
                        };
                        t.show(
                            text,
                            r.status == RunStatus::Failed,
                            Some((format!("/reports/runs/{}", r.id), "Open the run".into())),
                        );
                    }
                    done();
                    return;
                }
            }
            sleep_ms(500).await;
        }
    });
}

/// What a pruned artifact says instead of a link.
fn removed_after(days: Option<i64>) -> String {
    match days {
        Some(1) => "removed after 1 day (retention)".into(),
        Some(n) => format!("removed after {n} days (retention)"),
        None => "removed (retention)".into(),
    }
}

async fn sleep_ms(ms: u64) {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(ms as u32).await;
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}

/// What Run Now does with its answer: follow the new run, or — when a run of the template is
/// already queued or running (409 naming it) — follow that one instead of starting another.
fn after_run_now(
    answer: Result<String, AppError>,
    toasts: Option<Toasts>,
    follow: impl FnOnce(String),
    failed: impl FnOnce(),
) {
    match answer {
        Ok(run) => follow(run),
        Err(e) => match e.run_id.clone() {
            Some(running) => {
                if let Some(t) = toasts {
                    t.show("This report is already running; showing that run's progress.".to_string(), false, None);
                }
                follow(running);
            }
            None => {
                if let Some(t) = toasts {
                    t.show(e.message, true, None);
                }
                failed();
            }
        },
    }
}

/// `/settings/reports`.
#[component]
pub fn ReportsPage() -> impl IntoView {
    let edit = can_edit();
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || version.get(), |_| list_templates());
    // Live: the list (its next and last runs) is read again every 10 s, keeping what is shown
    // while a read fails and saying so.
    let live = RwSignal::new(None::<Vec<TemplateView>>);
    let live_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let _ = version.get();
        live.set(None);
    });
    follow_templates(live, live_error);
    let status = Resource::new(|| (), |_| crate::api::schedules::scheduler_status());
    // Runs in flight, by template: their buttons are disabled and each has its own banner.
    let running = RwSignal::new(std::collections::BTreeMap::<String, RunView>::new());
    let starting = RwSignal::new(std::collections::BTreeSet::<String>::new());
    let toggle = Action::new(move |t: &TemplateView| {
        let (id, on) = (t.id.clone(), !t.enabled);
        async move { update_template(id, TemplateInput { enabled: Some(on), ..Default::default() }).await }
    });
    let remove = Action::new(move |id: &String| delete_template(id.clone()));
    Effect::new(move |_| {
        if toggle.value().get().is_some() || remove.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    let toasts = use_context::<Toasts>();
    let start = move |id: String| {
        if starting.with_untracked(|s| s.contains(&id)) || running.with_untracked(|m| m.contains_key(&id)) {
            return;
        }
        starting.update(|s| {
            s.insert(id.clone());
        });
        leptos::task::spawn_local(async move {
            let answer = run_now(id.clone()).await;
            let done_id = id.clone();
            after_run_now(
                answer,
                toasts,
                move |run| {
                    let update = move |r: RunView| {
                        starting.update(|s| {
                            s.remove(&r.template_id);
                        });
                        running.update(|m| {
                            if r.phase == RunPhase::Finished {
                                m.remove(&r.template_id);
                            } else {
                                m.insert(r.template_id.clone(), r);
                            }
                        })
                    };
                    watch_run(run, update, toasts, move || version.update(|v| *v += 1))
                },
                move || {
                    starting.update(|s| {
                        s.remove(&done_id);
                    })
                },
            );
        });
    };
    let busy = move |id: &str| starting.with(|s| s.contains(id)) || running.with(|m| m.contains_key(id));
    view! {
        <Title text="Reports"/>
        <div class="page-header"><div><h1>"Reports"</h1><p class="muted">"Saved reports, their schedules and runs."</p></div></div>
        <Transition fallback=|| ()>
            {move || status.get().and_then(|r| r.ok()).map(|(internal, last)| {
                let text = match (internal, last) {
                    (true, Some(t)) => format!("Schedules fire on time: the built-in ticker is on (last tick {t})."),
                    (true, None) => "Schedules fire on time: the built-in ticker is on and ticks at the start of every minute.".to_string(),
                    (false, Some(t)) => format!("Schedules fire when an external scheduler calls POST /api/cron/tick (last tick {t}). Run Now works regardless."),
                    (false, None) => "Schedules wait for an external scheduler to call POST /api/cron/tick — none has yet. Use Run Now to deliver on demand.".to_string(),
                };
                view! { <p class="banner" data-testid="scheduler-banner">{text}</p> }
            })}
        </Transition>
        {move || running.get().into_values().map(|r| view! {
            <p class="banner" role="status" data-testid="run-progress">{format!("Running “{}”: {}…", r.template_name, r.phase)}</p>
        }).collect_view()}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || live_error.get().map(|m| view! { <p class="banner banner-warn" role="status">{m}</p> })}
            {move || list.get().map(|r| match live.get().map(Ok).unwrap_or(r) {
                Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                Ok(ts) if ts.is_empty() => view! { <div class="card empty"><p>"No reports yet. Open a dashboard and choose Save as Report."</p></div> }.into_any(),
                Ok(ts) => view! {
                    <div class="card table-wrap" tabindex="0">
                        <table class="data" data-testid="templates">
                            <thead><tr><th>"Name"</th><th>"Dashboard"</th><th>"Formats"</th><th>"Schedule"</th><th>"Next run"</th><th>"Last run"</th><th>"Enabled"</th>{move || edit.get().then(|| view! { <th>"Actions"</th> })}</tr></thead>
                            <tbody>
                                {ts.into_iter().map(|t| {
                                    // Every schedule is listed; "Next run" is the soonest of them.
                                    let scheds = t.schedules.clone();
                                    let sched = t.schedules.iter().filter(|s| s.enabled && s.next_run_at.is_some()).min_by(|a, b| a.next_run_at.cmp(&b.next_run_at)).cloned();
                                    let (t1, t2, id1, id2) = (t.clone(), t.clone(), t.id.clone(), t.id.clone());
                                    let (name, name2, href) = (t.name.clone(), t.name.clone(), format!("/settings/reports/{}", t.id));
                                    let last = t.last_run_status;
                                    view! {
                                        <tr data-template=name>
                                            <td><A href=href>{name2}</A></td>
                                            <td>{t.dashboard.clone()}</td>
                                            <td>{t.formats.join(", ").to_uppercase()}</td>
                                            <td>{if scheds.is_empty() {
                                                view! { <span>"On demand"</span> }.into_any()
                                            } else {
                                                scheds.iter().map(|s| view! { <div class:muted=!s.enabled>{s.description.clone()}{(!s.enabled).then_some(" (off)")}</div> }).collect_view().into_any()
                                            }}</td>
                                            <td>{sched.as_ref().map(|s| view! { <When at=s.next_run_at.clone() zone=s.timezone.clone()/> })}</td>
                                            <td>{last.map(|s| view! { <span class=format!("badge badge-{s}")>{s.as_str()}</span> })}</td>
                                            <td>{if t.enabled { "yes" } else { "no" }}</td>
                                            {move || edit.get().then(|| {
                                                let (t1, t2, id1, id2) = (t1.clone(), t2.clone(), id1.clone(), id2.clone());
                                                view! {
                                                    <td class="actions">
                                                        <button class="btn btn-sm btn-primary" data-testid="run-now"
                                                            disabled={let id = id1.clone(); move || busy(&id)}
                                                            on:click=move |_| start(id1.clone())>
                                                            {let id = id1.clone(); move || if busy(&id) { "Running…" } else { "Run Now" }}
                                                        </button>
                                                        <button class="btn btn-sm" on:click=move |_| { toggle.dispatch(t1.clone()); }>{if t2.enabled { "Disable" } else { "Enable" }}</button>
                                                        <button class="btn btn-sm btn-danger" on:click=move |_| {
                                                            if window().confirm_with_message("Delete this report and its schedules? Past runs are kept.").unwrap_or(false) { remove.dispatch(id2.clone()); }
                                                        }>"Delete"</button>
                                                    </td>
                                                }
                                            })}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

/// `/settings/reports/{id}`.
#[component]
pub fn TemplatePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let edit = can_edit();
    let version = RwSignal::new(0u32);
    let tab = RwSignal::new("details");
    let template = Resource::new(move || (id.get(), version.get()), |(id, _)| get_template(id));
    let offset = RwSignal::new(0i64);
    let runs = Resource::new(move || (id.get(), offset.get(), version.get()), |(id, o, _)| list_runs(id, o));
    // The Runs tab is live: while it is open, the page of runs is read again every 2 s while a run
    // is in flight and every 5 s otherwise (so scheduled runs and runs started elsewhere appear),
    // backing off to a minute while reads fail — and saying so.
    let live = RwSignal::new(None::<(Vec<RunView>, i64)>);
    let live_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let _ = (id.get(), offset.get(), version.get());
        live.set(None);
    });
    follow_runs(id, offset, tab, live, live_error);
    let progress = RwSignal::new(None::<RunView>);
    let starting = RwSignal::new(false);
    let busy = move || starting.get() || progress.get().is_some_and(|r| r.phase != RunPhase::Finished);
    let toasts = use_context::<Toasts>();
    let start = move |_| {
        if starting.get_untracked() || progress.get_untracked().is_some_and(|r| r.phase != RunPhase::Finished) {
            return;
        }
        starting.set(true);
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = run_now(id).await;
            after_run_now(
                answer,
                toasts,
                move |run| {
                    tab.set("runs");
                    let update = move |r: RunView| {
                        starting.set(false);
                        progress.set(Some(r));
                    };
                    watch_run(run, update, toasts, move || version.update(|v| *v += 1));
                },
                move || starting.set(false),
            );
        });
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || template.get().map(|r| match r {
                Err(e) => view! { <div class="card"><p class="widget-error">{e.message}</p></div> }.into_any(),
                Ok(t) => view! {
                    <Title text=t.name.clone()/>
                    <div class="page-header">
                        <div><h1 data-testid="template-name">{t.name.clone()}</h1><p class="muted">{format!("{} dashboard · {} · {}", t.dashboard, t.period, t.formats.join(", ").to_uppercase())}</p></div>
                        {move || edit.get().then(|| view! {
                            <button class="btn btn-primary" data-testid="run-now" disabled=busy on:click=start>
                                {move || if busy() { "Running…" } else { "Run Now" }}
                            </button>
                        })}
                    </div>
                    {move || progress.get().filter(|r| r.phase != RunPhase::Finished).map(|r| view! { <p class="banner" role="status" data-testid="run-progress">{format!("Run {}: {}…", r.status, r.phase)}</p> })}
                    <nav class="tabs">
                        {[("details", "Details"), ("schedule", "Schedule"), ("runs", "Runs")].into_iter().map(|(k, l)| view! {
                            <button class:active=move || tab.get() == k data-testid=format!("tab-{k}") on:click=move |_| tab.set(k)>{l}</button>
                        }).collect_view()}
                    </nav>
                    {
                        let t2 = t.clone();
                        move || match tab.get() {
                            "schedule" => view! { <ScheduleTab template=t2.clone() edit=edit version=version/> }.into_any(),
                            "runs" => view! { <RunsTab runs=runs live=live live_error=live_error offset=offset edit=edit/> }.into_any(),
                            _ => view! { <DetailsTab template=t2.clone() edit=edit version=version/> }.into_any(),
                        }
                    }
                }.into_any(),
            })}
        </Transition>
    }
}

/// The error to show above a form's buttons: none when one of the `shown` fields displays it,
/// else the message (with any field details the form does not show).
fn general_error(e: &AppError, shown: &[&str]) -> Option<String> {
    if shown.iter().any(|f| field_message(e, f).is_some()) {
        return None;
    }
    if e.details.is_empty() {
        return Some(e.message.clone());
    }
    let details: Vec<String> = e.details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect();
    Some(format!("{} — {}", e.message, details.join("; ")))
}

/// The names of destination ids ("—" when none; the id itself when unknown).
fn dest_names(all: &[DestinationRow], ids: &[String]) -> String {
    if ids.is_empty() {
        return "—".into();
    }
    ids.iter()
        .map(|id| all.iter().find(|d| d.id == *id).map(|d| d.name.clone()).unwrap_or_else(|| id.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn DetailsTab(template: TemplateView, edit: Memo<bool>, version: RwSignal<u32>) -> impl IntoView {
    let name = RwSignal::new(template.name.clone());
    let formats = RwSignal::new(template.formats.clone());
    let narrative = RwSignal::new(template.narrative.enabled);
    let prompt = RwSignal::new(template.narrative.prompt.clone().unwrap_or_default());
    let enabled = RwSignal::new(template.enabled);
    let page = RwSignal::new(template.page);
    let send = RwSignal::new(template.send_when.clone());
    let dashboard = Dashboard::parse(&template.dashboard).unwrap_or(Dashboard::Executive);
    let period = Period::parse(&template.period).unwrap_or(Period::D7);
    let id = template.id.clone();
    let save = Action::new(move |input: &TemplateInput| {
        let (id, input) = (id.clone(), input.clone());
        async move { update_template(id, input).await }
    });
    let id = template.id.clone();
    let remove = Action::new(move |_: &()| {
        let id = id.clone();
        async move { delete_template(id).await }
    });
    let toasts = use_context::<Toasts>();
    Effect::new(move |_| {
        if let Some(Ok(t)) = save.value().get() {
            if let Some(ts) = toasts {
                ts.show(format!("Saved “{}”.", t.name), false, None);
            }
            version.update(|v| *v += 1);
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            if let Some(ts) = toasts {
                ts.show("Report deleted; its past runs are kept.", false, None);
            }
            navigate("/settings/reports", Default::default());
        }
    });
    let error = Signal::derive(move || {
        save.value().get().and_then(|r| r.err()).or_else(|| remove.value().get().and_then(|r| r.err()))
    });
    let read_only = Signal::derive(move || !edit.get());
    let submit = move |_: leptos::ev::MouseEvent| {
        save.dispatch(TemplateInput {
            name: Some(name.get_untracked()),
            formats: Some(formats.get_untracked()),
            narrative: Some(NarrativeSettings {
                enabled: narrative.get_untracked(),
                prompt: Some(prompt.get_untracked()).filter(|p| !p.trim().is_empty()),
            }),
            enabled: Some(enabled.get_untracked()),
            page: Some(page.get_untracked()),
            send_when: Some(send.get_untracked()),
            ..Default::default()
        });
    };
    view! {
        <div class="card form" data-testid="details">
            <label>"Name"
                <input type="text" maxlength="200" data-testid="details-name" prop:value=move || name.get() disabled=move || !edit.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            {move || error.get().and_then(|e| field_message(&e, "name")).map(|m| view! { <span class="field-error">{m}</span> })}
            <FormatsField formats=formats error=error disabled=read_only/>
            <NarrativeField enabled=narrative prompt=prompt error=error disabled=read_only/>
            <PageFields page=page disabled=read_only/>
            <SendWhenFields send=send dashboard=dashboard period=period error=error disabled=read_only/>
            <label class="check">
                <input type="checkbox" data-testid="details-enabled" disabled=move || !edit.get() prop:checked=move || enabled.get() on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                "Enabled (its schedules fire; Run Now works either way)"
            </label>
            <p class="muted">"Created by "{template.created_by.clone()}" · "<When at=Some(template.created_at.clone())/></p>
            <p class="muted">"The data of a saved report is fixed at save time; to change it, save a fresh copy from the dashboard."</p>
            {move || error.get().and_then(|e| general_error(&e, &["name", "formats", "narrative.prompt", "sendWhen.kpi", "sendWhen.changePct"])).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            {move || edit.get().then(|| view! {
                <div class="header-controls">
                    <button class="btn btn-primary" data-testid="details-save" disabled=move || save.pending().get() on:click=submit>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                    <button class="btn btn-danger" data-testid="details-delete" disabled=move || remove.pending().get() on:click=move |_| {
                        if window().confirm_with_message("Delete this report and its schedules? Past runs are kept.").unwrap_or(false) { remove.dispatch(()); }
                    }>"Delete report"</button>
                </div>
            })}
        </div>
    }
}

#[component]
fn ScheduleTab(template: TemplateView, edit: Memo<bool>, version: RwSignal<u32>) -> impl IntoView {
    let toggle = Action::new(move |(id, on): &(String, bool)| {
        update_schedule(id.clone(), ScheduleInput { enabled: Some(*on), ..Default::default() })
    });
    let remove = Action::new(move |id: &String| delete_schedule(id.clone()));
    Effect::new(move |_| {
        if toggle.value().get().is_some() || remove.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    let dests = Resource::new(|| (), |_| list_destinations());
    // None: no form; Some(None): adding a schedule; Some(Some(s)): editing `s`.
    let form = RwSignal::new(None::<Option<ScheduleView>>);
    let schedules = template.schedules.clone();
    let template_id = template.id.clone();
    view! {
        <div class="card">
            {if template.schedules.is_empty() { Some(view! { <p class="muted">"No schedule: this report runs on demand."</p> }) } else { None }}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let all = dests.get().and_then(|r| r.ok()).unwrap_or_default();
                    (!schedules.is_empty()).then(|| view! {
                        <div class="table-wrap" tabindex="0">
                            <table class="data" data-testid="schedules">
                                <thead><tr><th>"Schedule"</th><th>"Cron"</th><th>"Next run"</th><th>"Destinations"</th><th>"Status"</th>{move || edit.get().then(|| view! { <th></th> })}</tr></thead>
                                <tbody>
                                    {schedules.iter().map(|s| {
                                        let (id1, id2, on, s2) = (s.id.clone(), s.id.clone(), s.enabled, s.clone());
                                        let names = dest_names(&all, &s.destinations);
                                        view! {
                                            <tr data-testid="schedule-row" data-schedule=s.id.clone()>
                                                <td>{s.description.clone()}<div class="muted">{s.name.clone()}</div></td>
                                                <td class="mono">{s.cron_expression.clone()}</td>
                                                <td><When at=s.next_run_at.clone() zone=s.timezone.clone()/><div class="muted">{s.timezone.clone()}</div></td>
                                                <td data-testid="schedule-destinations">{names}</td>
                                                <td>{s.parked_reason.clone().unwrap_or_else(|| if s.enabled { "enabled".into() } else { "disabled".into() })}</td>
                                                {move || edit.get().then(|| {
                                                    let (id1, id2, s2) = (id1.clone(), id2.clone(), s2.clone());
                                                    view! {
                                                        <td class="actions">
                                                            <button class="btn btn-sm" data-testid="schedule-edit" on:click=move |_| form.set(Some(Some(s2.clone())))>"Edit"</button>
                                                            <button class="btn btn-sm" data-testid="schedule-toggle" on:click=move |_| { toggle.dispatch((id1.clone(), !on)); }>{if on { "Disable" } else { "Enable" }}</button>
                                                            <button class="btn btn-sm btn-danger" data-testid="schedule-delete" on:click=move |_| { if window().confirm_with_message("Delete this schedule?").unwrap_or(false) { remove.dispatch(id2.clone()); } }>"Delete"</button>
                                                        </td>
                                                    }
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })
                }}
            </Transition>
            {move || edit.get().then(|| view! {
                <div class="header-controls" style="margin-top:12px">
                    <button class="btn" data-testid="add-schedule" on:click=move |_| form.set(Some(None))>"Add schedule"</button>
                </div>
            })}
        </div>
        {move || form.get().map(|target| view! { <ScheduleForm template_id=template_id.clone() schedule=target form=form version=version/> })}
    }
}

/// Adds a schedule to a template, or edits one: preset or cron, zone, next 5 runs, destinations.
#[component]
fn ScheduleForm(
    template_id: String,
    schedule: Option<ScheduleView>,
    form: RwSignal<Option<Option<ScheduleView>>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let (cron0, zone0, dests0) = match &schedule {
        Some(s) => (s.cron_expression.clone(), s.timezone.clone(), s.destinations.clone()),
        None => (PRESETS[1].2.to_string(), browser_zone(), Vec::new()),
    };
    let preset = RwSignal::new(cron_preset(&cron0).to_string());
    let custom = RwSignal::new(cron0);
    let zone = RwSignal::new(zone0);
    let chosen = RwSignal::new(dests0);
    let editing = schedule.as_ref().map(|s| s.id.clone());
    let save = Action::new(move |input: &ScheduleInput| {
        let (editing, input) = (editing.clone(), input.clone());
        async move {
            match editing {
                Some(id) => update_schedule(id, input).await,
                None => create_schedule(input).await,
            }
        }
    });
    let toasts = use_context::<Toasts>();
    Effect::new(move |_| {
        if let Some(Ok(s)) = save.value().get() {
            if let Some(ts) = toasts {
                ts.show(format!("Schedule saved: {}.", s.description), false, None);
            }
            version.update(|v| *v += 1);
            form.set(None);
        }
    });
    let error = Signal::derive(move || save.value().get().and_then(|r| r.err()));
    let title = if schedule.is_some() { "Edit schedule" } else { "Add schedule" };
    let tid = template_id.clone();
    let preview_input = Callback::new(move |()| PreviewInput { template_id: Some(tid.clone()), ..Default::default() });
    let submit = move |_: leptos::ev::MouseEvent| {
        let key = preset.get_untracked();
        let cron = preset_cron(&key, &custom.get_untracked());
        let input = match &schedule {
            Some(s) => ScheduleInput {
                // A changed timing renames the schedule after its preset; otherwise the name stays.
                name: (!s.cron_expression.split_whitespace().eq(cron.split_whitespace()))
                    .then(|| preset_name(&key).to_string()),
                cron_expression: Some(cron),
                timezone: Some(zone.get_untracked()),
                destinations: Some(chosen.get_untracked()),
                ..Default::default()
            },
            None => ScheduleInput {
                template_id: Some(template_id.clone()),
                name: Some(preset_name(&key).to_string()),
                cron_expression: Some(cron),
                timezone: Some(zone.get_untracked()),
                destinations: Some(chosen.get_untracked()),
                enabled: Some(true),
            },
        };
        save.dispatch(input);
    };
    view! {
        <div class="card form" data-testid="schedule-form">
            <h2>{title}</h2>
            <ScheduleFields preset=preset custom=custom zone=zone chosen=chosen error=error/>
            <DeliveryPreviews ids=chosen input=preview_input/>
            {move || error.get().and_then(|e| general_error(&e, &["cronExpression", "timezone", "destinations"])).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <div class="header-controls" style="justify-content:flex-end">
                <button class="btn btn-ghost" on:click=move |_| form.set(None)>"Cancel"</button>
                <button class="btn btn-primary" data-testid="schedule-save" disabled=move || save.pending().get() on:click=submit>
                    {move || if save.pending().get() { "Saving…" } else { "Save schedule" }}
                </button>
            </div>
        </div>
    }
}

/// Reads something again and again while the page is open (browser only), showing each answer
/// in `live`: `pace` says how long to wait after a good answer, `read` may skip a round (`None`,
/// e.g. while its tab is closed). A failing read keeps what is shown, says so in `live_error`
/// and waits twice as long each time (4 s up to a minute); the next good answer clears it.
fn follow<T, Fut>(
    read: impl Fn() -> Option<Fut> + 'static,
    pace: impl Fn(&T) -> u64 + 'static,
    live: RwSignal<Option<T>>,
    live_error: RwSignal<Option<String>>,
) where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        let alive = std::sync::Arc::new(AtomicBool::new(true));
        let on_page = alive.clone();
        on_cleanup(move || on_page.store(false, Relaxed));
        leptos::task::spawn_local(async move {
            let mut delay: u64 = 2_000;
            loop {
                sleep_ms(delay).await;
                if !alive.load(Relaxed) {
                    return;
                }
                let Some(answer) = read() else {
                    delay = 2_000;
                    continue;
                };
                let answer = answer.await;
                if !alive.load(Relaxed) {
                    return;
                }
                match answer {
                    Ok(value) => {
                        delay = pace(&value);
                        live.set(Some(value));
                        live_error.set(None);
                    }
                    Err(e) => {
                        delay = (delay * 2).clamp(4_000, 60_000);
                        live_error.set(Some(format!(
                            "Live updates paused ({}); retrying in {} s.",
                            e.message,
                            delay / 1000
                        )));
                    }
                }
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (read, pace, live, live_error);
}

/// Keeps the reports list live: every 2 s while a template's last run is in flight (its status
/// column follows it), every 10 s otherwise.
fn follow_templates(live: RwSignal<Option<Vec<TemplateView>>>, live_error: RwSignal<Option<String>>) {
    let busy = |list: &Vec<TemplateView>| list.iter().any(|t| t.last_run_status.is_some_and(|s| !s.is_finished()));
    follow(|| Some(list_templates()), move |list| if busy(list) { 2_000 } else { 10_000 }, live, live_error);
}

/// Reads the template's page of runs again and again while its Runs tab is open: every 2 s
/// while one is in flight, 5 s otherwise.
fn follow_runs(
    id: Memo<String>,
    offset: RwSignal<i64>,
    tab: RwSignal<&'static str>,
    live: RwSignal<Option<(Vec<RunView>, i64)>>,
    live_error: RwSignal<Option<String>>,
) {
    let read = move || (tab.get_untracked() == "runs").then(|| list_runs(id.get_untracked(), offset.get_untracked()));
    let pace =
        |page: &(Vec<RunView>, i64)| if page.0.iter().any(|r| r.phase != RunPhase::Finished) { 2_000 } else { 5_000 };
    follow(read, pace, live, live_error);
}

#[component]
fn RunsTab(
    runs: Resource<Result<(Vec<RunView>, i64), AppError>>,
    live: RwSignal<Option<(Vec<RunView>, i64)>>,
    live_error: RwSignal<Option<String>>,
    offset: RwSignal<i64>,
    edit: Memo<bool>,
) -> impl IntoView {
    view! {
        {move || live_error.get().map(|m| view! { <p class="banner banner-warn" role="status" data-testid="live-error">{m}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || runs.get().map(|r| match live.get().map(Ok).unwrap_or(r) {
                Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                Ok((list, _)) if list.is_empty() => view! { <div class="card empty"><p>{move || if edit.get() {
                    "No runs yet. Click Run Now to produce one, or wait for the schedule."
                } else {
                    "No runs yet. Runs appear here when the schedule fires or an editor runs the report."
                }}</p></div> }.into_any(),
                Ok((list, total)) => view! {
                    <div class="card table-wrap" tabindex="0">
                        <table class="data" data-testid="runs">
                            <thead><tr><th>"Started"</th><th>"Trigger"</th><th>"Status"</th><th>"Duration"</th><th>"Deliveries"</th><th>"Artifacts"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|r| view! {
                                    <tr data-run=r.id.clone()>
                                        <td><A href=format!("/reports/runs/{}", r.id)>{match r.started_at.clone() { Some(at) => view! { <When at=Some(at)/> }.into_any(), None => r.status.to_string().into_any() }}</A></td>
                                        <td>{match r.trigger { Trigger::RunNow => format!("Run Now by {}", r.triggered_by), Trigger::Schedule => "schedule".into() }}</td>
                                        <td>
                                            <span class=format!("badge badge-{}", r.status) data-testid="run-status">{r.status.as_str()}</span>
                                            {(r.phase != RunPhase::Finished).then(|| view! { <span class="muted" data-testid="run-phase">{format!(" {}…", r.phase)}</span> })}
                                            {r.error.clone().map(|e| view! { <div class="field-error" data-testid="run-error">{e}</div> })}
                                            {r.skip_reason.clone().map(|e| view! { <div class="muted" data-testid="run-skip-reason">{e}</div> })}
                                        </td>
                                        <td>{r.duration_ms.map(|d| format!("{:.1} s", d as f64 / 1000.0)).unwrap_or_default()}</td>
                                        <td>{r.deliveries.iter().map(|d| view! {
                                            <div><span class=format!("badge badge-{}", d.status) data-testid="delivery-status">{d.status.as_str()}</span>" "{d.name.clone()}{d.error.clone().map(|e| format!(" — {e}"))}</div>
                                        }).collect_view()}</td>
                                        <td>{r.artifacts.iter().map(|a| if a.pruned {
                                            view! { <span class="muted" data-testid=format!("artifact-{}", a.format)>{format!("{} {} ", a.format.to_uppercase(), removed_after(a.kept_days))}</span> }.into_any()
                                        } else {
                                            view! { <a class="btn btn-sm" rel="external" href=format!("/api/v1/reports/runs/{}/artifacts/{}", r.id, a.format) data-testid=format!("artifact-{}", a.format)>{a.format.to_uppercase()}</a> }.into_any()
                                        }).collect_view()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="header-controls">
                            <button class="btn btn-sm" disabled=move || { offset.get() == 0 } on:click=move |_| offset.update(|o| *o = (*o - 20).max(0))>"Newer"</button>
                            <span class="muted">{move || format!("{}–{} of {total}", offset.get() + 1, (offset.get() + 20).min(total))}</span>
                            <button class="btn btn-sm" disabled=move || { offset.get() + 20 >= total } on:click=move |_| offset.update(|o| *o += 20)>"Older"</button>
                        </div>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

/// `/reports/runs/{id}`: the run's narrative, sections and deliveries.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let edit = can_edit();
    let version = RwSignal::new(0u32);
    let run =
        Resource::new(move || (params.with(|p| p.get("id").unwrap_or_default()), version.get()), |(id, _)| get_run(id));
    let report = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), run_report);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || run.get().map(|r| match r {
                Err(e) => view! { <div class="card"><p class="widget-error">{e.message}</p></div> }.into_any(),
                Ok(r) => view! {
                    <Title text=format!("Run of {}", r.template_name)/>
                    <div class="page-header"><div>
                        <h1>{r.template_name.clone()}</h1>
                        <p class="muted">{format!("{} · {} · started ", r.period, r.status)}<When at=r.started_at.clone() empty="not yet"/></p>
                    </div>
                    <A href=format!("/settings/reports/{}", r.template_id)>"Back to the report"</A></div>
                    {r.error.clone().map(|e| view! { <p class="widget-error" role="alert" data-testid="run-error">{e}</p> })}
                    {r.skip_reason.clone().map(|e| view! { <p class="banner" role="status" data-testid="run-skip-reason">{e}</p> })}
                    <div class="grid grid-2" style="margin-bottom:16px">
                        {r.narrative.clone().map(|n| view! {
                            <section class="card narrative" data-testid="run-narrative"><h2>"Executive summary"</h2><p>{n.executive_summary}</p>
                            <h3>"Key takeaways"</h3>
                            <ul class="takeaways">{n.key_takeaways.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
                            <p class="muted small">{match (n.fallback, n.provider.as_str()) {
                                (true, p) => format!("Written by the built-in narrator ({p} failed)."),
                                (false, "builtin") => "Written by the built-in narrator.".to_string(),
                                (false, p) => format!("Written by {p}."),
                            }}</p>
                            </section>
                        })}
                        <section class="card"><h2>"Deliveries"</h2>
                            {(r.deliveries.is_empty() && r.skip_reason.is_none()).then(|| view! { <p class="muted">"No destinations: nothing was sent. The artifacts are below."</p> })}
                            {r.skip_reason.is_some().then(|| view! { <p class="muted">"Skipped by its send condition: nothing was rendered or sent."</p> })}
                            {r.deliveries.iter().map(|d| view! { <DeliveryItem run_id=r.id.clone() delivery=d.clone() edit=edit version=version/> }).collect_view()}
                            <h3 style="margin-top:12px">"Artifacts"</h3>
                            {r.artifacts.iter().map(|a| if a.pruned {
                                view! { <div class="muted">{format!("{} — {}; the record of it stays (sha256 {}…)", a.filename, removed_after(a.kept_days), &a.sha256[..12.min(a.sha256.len())])}</div> }.into_any()
                            } else {
                                view! { <div><a rel="external" href=format!("/api/v1/reports/runs/{}/artifacts/{}", r.id, a.format)>{a.filename.clone()}</a>{format!(" · {} · sha256 {}…", human_size(a.size_bytes), &a.sha256[..12.min(a.sha256.len())])}</div> }.into_any()
                            }).collect_view()}
                        </section>
                    </div>
                    <h2 class="section-title">"The report"</h2>
                    <p class="muted">{format!("{} section(s), as the recipients got them — read from the run's record, not from today's data.", r.sections.len())}</p>
                    <Transition fallback=|| view! { <p class="muted">"Loading the report…"</p> }>
                        {move || report.get().map(|t| match t {
                            Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                            Ok(tables) => view! {
                                <div class="report-sections" data-testid="run-report">
                                    {tables.into_iter().map(|t| {
                                        let source = t.source.clone();
                                        // Key metrics as the dashboard shows them: tiles with Δ and sparkline.
                                        if t.col("chip").is_some() && t.col("format").is_some() {
                                            view! { <section data-section=source class="span-all"><KpiCards table=t/></section> }.into_any()
                                        } else if t.chart.is_some() {
                                            view! { <section data-section=source><ChartCard table=t/></section> }.into_any()
                                        } else {
                                            view! { <section data-section=source><TableCard table=t/></section> }.into_any()
                                        }
                                    }).collect_view()}
                                </div>
                            }.into_any(),
                        })}
                    </Transition>
                }.into_any(),
            })}
        </Transition>
    }
}

/// "12.4 KB", "1.2 MB", "512 bytes".
fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1_048_576 => format!("{:.1} MB", b as f64 / 1_048_576.0),
        b if b >= 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// One delivery on the run page: its status, every attempt, its re-sends, and — for an editor,
/// when it failed or its outcome is unknown — a Re-send button. The page follows the re-send
/// until it ends.
#[component]
fn DeliveryItem(run_id: String, delivery: DeliveryView, edit: Memo<bool>, version: RwSignal<u32>) -> impl IntoView {
    let d = delivery;
    let toasts = use_context::<Toasts>();
    let sending = RwSignal::new(false);
    let resendable = d.status.resendable();
    let (rid, did, name) = (run_id.clone(), d.id.clone(), d.name.clone());
    let resend = move |_| {
        let (rid, did, name) = (rid.clone(), did.clone(), name.clone());
        sending.set(true);
        leptos::task::spawn_local(async move {
            match resend_delivery(rid.clone(), did.clone()).await {
                Ok(_) => {
                    for _ in 0..600 {
                        sleep_ms(500).await;
                        let Ok(r) = get_run(rid.clone()).await else { continue };
                        let Some(now) = r.deliveries.iter().find(|x| x.id == did) else { break };
                        if now.status.is_final() {
                            if let Some(t) = toasts {
                                t.show(format!("Re-send to {name}: {}", now.status), !now.status.reached(), None);
                            }
                            break;
                        }
                    }
                }
                Err(e) => {
                    if let Some(t) = toasts {
                        t.show(e.message, true, None);
                    }
                }
            }
            sending.set(false);
            version.update(|v| *v += 1);
        });
    };
    let summary = format!(
        " {} ({}), {} attempt(s){}",
        d.name,
        d.kind,
        d.attempts,
        d.error.clone().map(|e| format!(": {e}")).unwrap_or_default()
    );
    view! {
        <div class="delivery" data-testid="delivery" data-delivery=d.name.clone()>
            <div>
                <span class=format!("badge badge-{}", d.status) data-testid="delivery-status">{d.status.as_str()}</span>
                {summary}
                {move || (edit.get() && resendable).then(|| view! {
                    " "<button class="btn btn-sm" data-testid="resend" disabled=move || sending.get() on:click=resend.clone()>
                        {move || if sending.get() { "Re-sending…" } else { "Re-send" }}
                    </button>
                })}
            </div>
            {d.resends.last().map(|last| view! {
                <p class="muted">{format!(
                    "Recorded by the run as {}; re-sent by {} at {}{}.",
                    d.run_status,
                    last.requested_by,
                    last.requested_at,
                    if d.resends.len() > 1 { format!(" ({} re-sends in all)", d.resends.len()) } else { String::new() },
                )}</p>
            })}
            <ol class="attempts" data-testid="attempts">
                {d.history.iter().map(|a| view! {
                    <li>{format!(
                        "#{} {} — {}{}{}{}",
                        a.number,
                        a.at,
                        a.result,
                        // The status in brackets only when the error does not already say it.
                        a.http_status.filter(|_| !a.error.as_deref().is_some_and(|e| e.starts_with("HTTP "))).map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
                        a.error.clone().map(|e| format!(": {e}")).unwrap_or_default(),
                        if a.resend { " · re-send" } else { "" },
                    )}</li>
                }).collect_view()}
            </ol>
        </div>
    }
}
