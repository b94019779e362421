//! The sign-in page.

use crate::api::auth::Login;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login`: email and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.message),
        _ => None,
    };
    view! {
        <Title text="Sign in"/>
        <div class="login-page">
            <div class="card login-card">
                <div class="brand login-brand">
                    <span class="brand-mark" aria-hidden="true">"N"</span>
                    <span class="brand-name">"Narrate"</span>
                </div>
                <h1>"Sign in"</h1>
                <p class="muted">"Dashboards that become narrated, scheduled reports."</p>
                <ActionForm action=login attr:class="form">
                    <input type="hidden" name="next" prop:value=next/>
                    <label>
                        "Email"
                        <input type="email" name="email" autocomplete="username" required data-testid="email"/>
                    </label>
                    <label>
                        "Password"
                        <input
                            type="password"
                            name="password"
                            autocomplete="current-password"
                            required
                            data-testid="password"
                        />
                    </label>
                    {move || error().map(|m| view! { <p class="form-error" role="alert" data-testid="login-error">{m}</p> })}
                    <button type="submit" class="btn btn-primary" disabled=move || login.pending().get() data-testid="sign-in">
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </div>
    }
}
