//! Settings → Team (admins: users and API keys) and the profile page (everyone: their password
//! and their sessions). The server enforces every rule; these pages only offer what the role may
//! do, and show the server's own error next to the form that caused it.

use crate::api::team::{
    change_password, create_key, create_user, delete_user, list_keys, list_users, my_sessions, revoke_key,
    sign_out_everywhere, update_user,
};
use crate::components::shell::CurrentUser;
use crate::components::time::When;
use crate::components::toast::Toasts;
use crate::model::team::{ApiKeyInput, NewApiKey, PasswordChange, UserInput, UserStatus, UserView};
use crate::model::{AppError, Role};
use leptos::prelude::*;
use leptos_meta::Title;

fn is_admin() -> Memo<bool> {
    let me = use_context::<CurrentUser>();
    Memo::new(move |_| me.and_then(|m| m.0.get()).and_then(|r| r.ok()).flatten().is_some_and(|m| m.role == Role::Admin))
}

/// The message of an error with every field's detail, one line each.
fn lines(e: &AppError) -> Vec<String> {
    let mut out = vec![e.message.clone()];
    if e.details.len() > 1 {
        out.extend(e.details.iter().map(|d| format!("{}: {}", d.field, d.message)));
    }
    out
}

#[component]
fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <div class="form-error" role="alert">{lines(&e).into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}</div> }
        })
    }
}

fn role_options(selected: Role) -> impl IntoView {
    [Role::Viewer, Role::Editor, Role::Admin]
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.as_str()}</option> })
        .collect_view()
}

/// `/settings/team`.
#[component]
pub fn TeamPage() -> impl IntoView {
    let admin = is_admin();
    view! {
        <Title text="Team"/>
        <div class="page-header">
            <div>
                <h1>"Team"</h1>
                <p class="muted">"Who can sign in to this organisation, with which role, and the API keys that act for it."</p>
            </div>
        </div>
        <Transition fallback=|| ()>
            {move || if admin.get() {
                view! { <div class="stack"><UsersCard/><KeysCard/></div> }.into_any()
            } else {
                view! {
                    <section class="card">
                        <p>"Only admins manage the team. Your own password and sessions are on "
                        <a href="/settings/profile">"your profile"</a>"."</p>
                    </section>
                }.into_any()
            }}
        </Transition>
    }
}

#[component]
fn UsersCard() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let users = Resource::new(move || version.get(), |_| list_users());
    let toasts = use_context::<Toasts>();
    let form = RwSignal::new(UserInput { role: Some(Role::Viewer), ..Default::default() });
    let add = Action::new(move |input: &UserInput| create_user(input.clone()));
    let change = Action::new(move |(id, input): &(String, UserInput)| update_user(id.clone(), input.clone()));
    let remove = Action::new(move |id: &String| delete_user(id.clone()));
    let add_error = Signal::derive(move || add.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(u)) = add.value().get() {
            form.set(UserInput { role: Some(Role::Viewer), ..Default::default() });
            version.update(|v| *v += 1);
            if let Some(t) = toasts {
                t.show(format!("Added {}. Pass on their initial password yourself.", u.email), false, None);
            }
        }
    });
    Effect::new(move |_| {
        let outcome = change.value().get().map(|r| r.map(|_| ())).or_else(|| remove.value().get());
        match outcome {
            Some(Ok(())) => version.update(|v| *v += 1),
            Some(Err(e)) => {
                if let Some(t) = toasts {
                    t.show(e.message, true, None);
                }
                version.update(|v| *v += 1);
            }
            None => {}
        }
    });
    let field = move |label: &'static str,
                      ty: &'static str,
                      get: fn(&UserInput) -> Option<String>,
                      set: fn(&mut UserInput, String)| {
        view! {
            <label>
                {label}
                <input type=ty autocomplete="off" prop:value=move || form.with(|f| get(f).unwrap_or_default())
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))/>
            </label>
        }
    };
    view! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || users.get().map(|r| match r {
                    Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                    Ok(list) => view! { <UsersTable users=list change=change remove=remove/> }.into_any(),
                })}
            </Transition>
            <h3>"Add a user"</h3>
            <form class="form grid grid-2" on:submit=move |ev| { ev.prevent_default(); add.dispatch(form.get_untracked()); }>
                {field("Email", "email", |f| f.email.clone(), |f, v| f.email = Some(v))}
                {field("Name", "text", |f| f.name.clone(), |f, v| f.name = Some(v))}
                <label>
                    "Role"
                    <select aria-label="Role" on:change=move |ev| form.update(|f| f.role = event_target_value(&ev).parse().ok())>
                        {role_options(Role::Viewer)}
                    </select>
                </label>
                {field("Initial password", "password", |f| f.password.clone(), |f, v| f.password = Some(v))}
                <div><button class="btn btn-primary" type="submit" disabled=move || add.pending().get()>"Add user"</button></div>
            </form>
            <FormError error=add_error/>
        </section>
    }
}

#[component]
fn UsersTable(
    users: Vec<UserView>,
    change: Action<(String, UserInput), Result<UserView, AppError>>,
    remove: Action<String, Result<(), AppError>>,
) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0">
            <table class="data">
                <thead><tr><th>"Email"</th><th>"Name"</th><th>"Role"</th><th>"Status"</th><th>"Last sign-in"</th><th>"Actions"</th></tr></thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let (id1, id2, id3) = (u.id.clone(), u.id.clone(), u.id.clone());
                        let active = u.status == UserStatus::Active;
                        let email = u.email.clone();
                        view! {
                            <tr data-user=u.email.clone()>
                                <td>{u.email.clone()}</td>
                                <td>{u.name.clone()}</td>
                                <td>
                                    <select aria-label=format!("Role of {}", u.email) on:change=move |ev| {
                                        let role = event_target_value(&ev).parse().ok();
                                        change.dispatch((id1.clone(), UserInput { role, ..Default::default() }));
                                    }>{role_options(u.role)}</select>
                                </td>
                                <td><span class=if active { "badge badge-green" } else { "badge badge-grey" }>{if active { "active" } else { "disabled" }}</span></td>
                                <td><When at=u.last_sign_in_at.clone() empty="never"/></td>
                                <td class="actions">
                                    <button class="btn btn-sm" on:click=move |_| {
                                        change.dispatch((id2.clone(), UserInput { disabled: Some(active), ..Default::default() }));
                                    }>{if active { "Disable" } else { "Enable" }}</button>
                                    <button class="btn btn-sm btn-danger" on:click=move |_| {
                                        let sure = window().confirm_with_message(&format!("Remove {email}? They can no longer sign in.")).unwrap_or(false);
                                        if sure { remove.dispatch(id3.clone()); }
                                    }>"Remove"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeysCard() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let keys = Resource::new(move || version.get(), |_| list_keys());
    let form = RwSignal::new(ApiKeyInput { role: Some(Role::Viewer), ..Default::default() });
    let fresh = RwSignal::new(None::<NewApiKey>);
    let create = Action::new(move |input: &ApiKeyInput| create_key(input.clone()));
    let revoke = Action::new(move |id: &String| revoke_key(id.clone()));
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(k)) = create.value().get() {
            fresh.set(Some(k));
            form.set(ApiKeyInput { role: Some(Role::Viewer), ..Default::default() });
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if revoke.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(k) = fresh.get_untracked() {
            let _ = window().navigator().clipboard().write_text(&k.key);
        }
    };
    view! {
        <section class="card" aria-labelledby="keys-title">
            <h2 id="keys-title">"API keys"</h2>
            {move || fresh.get().map(|k| view! {
                <div class="banner" role="status">
                    <p>{format!("The key “{}” — copy it now; it is not shown again:", k.view.name)}</p>
                    <p><code data-testid="new-key">{k.key.clone()}</code>" "
                    <button class="btn btn-sm" on:click=copy>"Copy"</button></p>
                </div>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || keys.get().map(|r| match r {
                    Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No API keys."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap" tabindex="0">
                            <table class="data">
                                <thead><tr><th>"Name"</th><th>"Role"</th><th>"Key"</th><th>"Created"</th><th>"Created by"</th><th>"Last used"</th><th>"Expires"</th><th>"Actions"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|k| {
                                        let id = k.id.clone();
                                        view! {
                                            <tr data-key=k.name.clone()>
                                                <td>{k.name.clone()}</td>
                                                <td>{k.role.as_str()}</td>
                                                <td class="mono">{format!("{}…", k.prefix)}</td>
                                                <td><When at=Some(k.created_at.clone())/></td>
                                                <td>{k.created_by.clone()}</td>
                                                <td><When at=k.last_used_at.clone() empty="never"/></td>
                                                <td class="mono">{k.expires_at.clone().unwrap_or_else(|| "never".into())}</td>
                                                <td><button class="btn btn-sm btn-danger" on:click=move |_| { revoke.dispatch(id.clone()); }>"Revoke"</button></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
            <h3>"Create a key"</h3>
            <form class="form grid grid-2" on:submit=move |ev| { ev.prevent_default(); create.dispatch(form.get_untracked()); }>
                <label>
                    "Key name"
                    <input type="text" prop:value=move || form.with(|f| f.name.clone().unwrap_or_default())
                        on:input=move |ev| form.update(|f| f.name = Some(event_target_value(&ev)))/>
                </label>
                <label>
                    "Key role"
                    <select aria-label="Key role" on:change=move |ev| form.update(|f| f.role = event_target_value(&ev).parse().ok())>{role_options(Role::Viewer)}</select>
                </label>
                <label>
                    "Expires on (optional)"
                    <input type="date" on:input=move |ev| {
                        let d = event_target_value(&ev);
                        form.update(|f| f.expires_at = (!d.is_empty()).then(|| format!("{d}T00:00:00Z")));
                    }/>
                </label>
                <div><button class="btn btn-primary" type="submit" disabled=move || create.pending().get()>"Create key"</button></div>
            </form>
            <FormError error=create_error/>
        </section>
    }
}

/// `/settings/profile`: the signed-in user's password and sessions.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let sessions = Resource::new(move || version.get(), |_| my_sessions());
    let toasts = use_context::<Toasts>();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let mismatch = RwSignal::new(false);
    let save = Action::new(move |c: &PasswordChange| change_password(c.clone()));
    let out = Action::new(move |_: &()| sign_out_everywhere());
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            for s in [current, new_password, confirm] {
                s.set(String::new());
            }
            version.update(|v| *v += 1);
            if let Some(t) = toasts {
                t.show("Password changed. Your other sessions were signed out.", false, None);
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = out.value().get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href("/login");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let differs = new_password.get_untracked() != confirm.get_untracked();
        mismatch.set(differs);
        if !differs {
            save.dispatch(PasswordChange {
                current_password: current.get_untracked(),
                new_password: new_password.get_untracked(),
            });
        }
    };
    let pw = move |label: &'static str, value: RwSignal<String>, auto: &'static str| {
        view! {
            <label>
                {label}
                <input type="password" autocomplete=auto prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    let me = use_context::<CurrentUser>();
    let who =
        move || me.and_then(|m| m.0.get()).and_then(|r| r.ok()).flatten().map(|m| format!("{} · {}", m.email, m.role));
    view! {
        <Title text="Your profile"/>
        <div class="page-header"><div><h1>"Your profile"</h1><p class="muted">{who}</p></div></div>
        <div class="stack">
            <section class="card" aria-labelledby="password-title">
                <h2 id="password-title">"Change your password"</h2>
                <form class="form grid grid-2" on:submit=submit>
                    {pw("Current password", current, "current-password")}
                    {pw("New password", new_password, "new-password")}
                    {pw("Repeat the new password", confirm, "new-password")}
                    <div><button class="btn btn-primary" type="submit" disabled=move || save.pending().get()>"Change password"</button></div>
                </form>
                {move || mismatch.get().then(|| view! { <div class="form-error" role="alert">"The two new passwords differ."</div> })}
                <FormError error=save_error/>
            </section>
            <section class="card" aria-labelledby="sessions-title">
                <h2 id="sessions-title">"Where you are signed in"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || sessions.get().map(|r| match r {
                        Err(e) => view! { <p class="widget-error">{e.message}</p> }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap" tabindex="0">
                                <table class="data">
                                    <thead><tr><th>"Signed in"</th><th>"Last seen"</th><th>"Browser"</th><th>"Expires"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|s| view! {
                                            <tr>
                                                <td><When at=Some(s.created_at.clone())/>{s.current.then(|| view! { " " <span class="badge badge-green">"this session"</span> })}</td>
                                                <td class="mono">{s.last_seen_at.clone().unwrap_or_default()}</td>
                                                <td>{s.user_agent.clone().unwrap_or_else(|| "unknown".into())}</td>
                                                <td class="mono">{s.expires_at.clone()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    })}
                </Transition>
                <button class="btn btn-danger" disabled=move || out.pending().get() on:click=move |_| {
                    let sure = window().confirm_with_message("Sign out of every browser, this one included?").unwrap_or(false);
                    if sure { out.dispatch(()); }
                }>"Sign out everywhere"</button>
            </section>
        </div>
    }
}
