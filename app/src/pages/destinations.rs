//! Settings → Integrations → Notifications: the tenant's destinations. Admins add (choose a kind,
//! then its form), edit, pause/resume, delete (confirm) and Test (result inline); everyone else
//! reads the list without edit controls.

use crate::api::destinations::{
    delete_destination, list_destinations, save_destination, test_destination, toggle_destination, DestinationRow,
    TestLine,
};
use crate::model::AppError;
use leptos::prelude::*;

/// The form state.
#[derive(Clone, Debug, Default, PartialEq)]
struct Form {
    id: Option<String>,
    kind: String,
    name: String,
    url: String,
    secret: String,
    headers: String,
    from: String,
    to: String,
    reply_to: String,
}

impl Form {
    fn config(&self) -> String {
        let json = match self.kind.as_str() {
            "slack" | "teams" => serde_json::json!({ "webhookUrl": self.url }),
            "email" => serde_json::json!({
                "from": self.from,
                "to": self.to.split([',', ';', ' ']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "replyTo": self.reply_to,
            }),
            _ => {
                let headers: serde_json::Map<String, serde_json::Value> = self
                    .headers
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), serde_json::Value::String(v.trim().to_string())))
                    .collect();
                serde_json::json!({ "url": self.url, "secret": self.secret, "headers": headers })
            }
        };
        json.to_string()
    }

    fn from_row(d: &DestinationRow) -> Self {
        let c: serde_json::Value = serde_json::from_str(&d.config).unwrap_or_default();
        let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let headers = c
            .get("headers")
            .and_then(|h| h.as_object())
            .map(|m| {
                m.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join("\n")
            })
            .unwrap_or_default();
        let to = c
            .get("to")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let url = if d.kind == "slack" || d.kind == "teams" { s("webhookUrl") } else { s("url") };
        Form {
            id: Some(d.id.clone()),
            kind: d.kind.clone(),
            name: d.name.clone(),
            url,
            secret: s("secret"),
            headers,
            from: s("from"),
            to,
            reply_to: s("replyTo"),
        }
    }
}

/// The Notifications card.
#[component]
pub fn Destinations(admin: bool) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || version.get(), |_| list_destinations());
    let editing = RwSignal::new(None::<Form>);
    let results = RwSignal::new(std::collections::HashMap::<String, TestLine>::new());
    let save = Action::new(move |f: &Form| {
        let f = f.clone();
        async move { save_destination(f.id.clone(), f.kind.clone(), f.name.clone(), true, f.config()).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            editing.set(None);
            version.update(|v| *v += 1);
        }
    });
    let toggle = Action::new(move |(id, on): &(String, bool)| toggle_destination(id.clone(), *on));
    let remove = Action::new(move |id: &String| delete_destination(id.clone()));
    let test = Action::new(move |id: &String| {
        let id = id.clone();
        async move { (id.clone(), test_destination(id).await) }
    });
    Effect::new(move |_| {
        if toggle.value().get().is_some() || remove.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if let Some((id, r)) = test.value().get() {
            let line = r.unwrap_or_else(|e: AppError| TestLine { ok: false, text: e.message });
            results.update(|m| {
                m.insert(id, line);
            });
        }
    });
    view! {
        <section class="card" data-testid="notifications">
            <div class="widget-head">
                <h2>"Notifications"</h2>
                {admin.then(|| view! {
                    <div class="header-controls">
                        <select data-testid="add-destination" aria-label="Add a destination" on:change=move |ev| {
                            let kind = event_target_value(&ev);
                            if !kind.is_empty() {
                                editing.set(Some(Form { kind, ..Form::default() }));
                            }
                        }>
                            <option value="">"Add destination…"</option>
                            <option value="slack">"Slack"</option>
                            <option value="teams">"Microsoft Teams"</option>
                            <option value="email">"Email"</option>
                            <option value="webhook">"Webhook"</option>
                        </select>
                    </div>
                })}
            </div>
            <Show when=move || editing.get().is_some()>
                <DestinationForm editing=editing save=save/>
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">"No notification destinations yet."</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="table-wrap" tabindex="0">
                        <table class="data" data-testid="destinations">
                            <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Target"</th><th>"Status"</th>{admin.then(|| view! { <th>"Actions"</th> })}</tr></thead>
                            <tbody>
                                {rows.into_iter().map(|d| {
                                    let (id1, id2, id3, id4) = (d.id.clone(), d.id.clone(), d.id.clone(), d.id.clone());
                                    let row = d.clone();
                                    let on = d.enabled;
                                    view! {
                                        <tr data-destination=d.name.clone()>
                                            <td>{d.name.clone()}</td>
                                            <td>{d.kind.clone()}</td>
                                            <td class="muted">{d.summary.clone()}</td>
                                            <td><span class=if on { "badge badge-green" } else { "badge badge-grey" }>{if on { "enabled" } else { "paused" }}</span></td>
                                            {admin.then(|| view! {
                                                <td class="actions">
                                                    <button class="btn btn-sm" data-testid="test-destination" on:click=move |_| { test.dispatch(id1.clone()); }>"Test"</button>
                                                    <button class="btn btn-sm" on:click=move |_| editing.set(Some(Form::from_row(&row)))>"Edit"</button>
                                                    <button class="btn btn-sm" on:click=move |_| { toggle.dispatch((id2.clone(), !on)); }>{if on { "Pause" } else { "Resume" }}</button>
                                                    <button class="btn btn-sm btn-danger" on:click=move |_| {
                                                        let sure = window().confirm_with_message("Delete this destination? Schedules that use it will skip it.").unwrap_or(false);
                                                        if sure { remove.dispatch(id3.clone()); }
                                                    }>"Delete"</button>
                                                    {move || results.with(|m| m.get(&id4).cloned()).map(|l| view! {
                                                        <span class=if l.ok { "badge badge-green" } else { "badge badge-red" } data-testid="test-result">{l.text}</span>
                                                    })}
                                                </td>
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
        </section>
    }
}

#[component]
fn DestinationForm(editing: RwSignal<Option<Form>>, save: Action<Form, Result<(), AppError>>) -> impl IntoView {
    let kind = move || editing.with(|f| f.as_ref().map(|f| f.kind.clone()).unwrap_or_default());
    let input = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&Form) -> String,
                      set: fn(&mut Form, String),
                      ty: &'static str| {
        view! {
            <label>
                {label}
                <input type=ty data-testid=testid
                    prop:value=move || editing.with(|f| f.as_ref().map(get).unwrap_or_default())
                    on:input=move |ev| editing.update(|f| if let Some(f) = f { set(f, event_target_value(&ev)) })/>
            </label>
        }
    };
    let errors = move || match save.value().get() {
        Some(Err(e)) => {
            let mut lines = vec![e.message.clone()];
            lines.extend(e.details.iter().map(|d| format!("{}: {}", d.field, d.message)));
            Some(lines)
        }
        _ => None,
    };
    view! {
        <div class="card" style="margin:12px 0" data-testid="destination-form">
            <h3>{move || format!("{} destination", kind())}</h3>
            <div class="form grid grid-2">
                {input("Name", "dest-name", |f| f.name.clone(), |f, v| f.name = v, "text")}
                {move || match kind().as_str() {
                    "email" => view! {
                        {input("From", "dest-from", |f| f.from.clone(), |f, v| f.from = v, "email")}
                        {input("To (comma-separated)", "dest-to", |f| f.to.clone(), |f, v| f.to = v, "text")}
                        {input("Reply-to (optional)", "dest-reply-to", |f| f.reply_to.clone(), |f, v| f.reply_to = v, "email")}
                    }.into_any(),
                    "webhook" => view! {
                        {input("URL (https)", "dest-url", |f| f.url.clone(), |f, v| f.url = v, "url")}
                        {input("Signing secret (optional)", "dest-secret", |f| f.secret.clone(), |f, v| f.secret = v, "password")}
                        <label>
                            "Extra headers (one 'Name: value' per line)"
                            <textarea data-testid="dest-headers" rows="3"
                                prop:value=move || editing.with(|f| f.as_ref().map(|f| f.headers.clone()).unwrap_or_default())
                                on:input=move |ev| editing.update(|f| if let Some(f) = f { f.headers = event_target_value(&ev) })></textarea>
                        </label>
                    }.into_any(),
                    _ => view! { {input("Incoming webhook URL", "dest-url", |f| f.url.clone(), |f, v| f.url = v, "password")} }.into_any(),
                }}
            </div>
            {move || errors().map(|lines| view! { <div class="form-error" role="alert">{lines.into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}</div> })}
            <div class="header-controls" style="margin-top:10px">
                <button class="btn btn-primary" data-testid="dest-save" disabled=move || save.pending().get()
                    on:click=move |_| { if let Some(f) = editing.get_untracked() { save.dispatch(f); } }>"Save"</button>
                <button class="btn btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
        </div>
    }
}
