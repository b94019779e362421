//! Settings pages: Reports and Integrations.

use leptos::prelude::*;
use leptos_meta::Title;

/// `/settings/integrations`: notification destinations and the AI provider.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let me = use_context::<crate::components::shell::CurrentUser>();
    let is_admin = move || {
        me.and_then(|m| m.0.get()).and_then(|r| r.ok()).flatten().is_some_and(|m| m.role == crate::model::Role::Admin)
    };
    view! {
        <Title text="Integrations"/>
        <div class="page-header">
            <div>
                <h1>"Integrations"</h1>
                <p class="muted">"Notification destinations and the AI provider that writes narratives."</p>
            </div>
        </div>
        <div class="stack">
            <Transition fallback=|| ()>
                {move || view! { <crate::pages::destinations::Destinations admin=is_admin()/> }}
            </Transition>
            <Transition fallback=|| ()>
                {move || if is_admin() { view! { <AiProviderCard/> }.into_any() } else {
                    view! { <section class="card"><h2>"AI provider"</h2><p class="muted">"Only admins can see and change the AI provider."</p></section> }.into_any()
                }}
            </Transition>
        </div>
    }
}

/// The AI provider form (admin).
#[component]
fn AiProviderCard() -> impl IntoView {
    use crate::api::settings::{get_ai_provider, put_ai_provider, test_ai_provider, AiForm};
    let loaded = Resource::new(|| (), |_| get_ai_provider());
    let form = RwSignal::new(AiForm::default());
    Effect::new(move |_| {
        if let Some(Ok(f)) = loaded.get() {
            form.set(f);
        }
    });
    let save = Action::new(move |f: &AiForm| put_ai_provider(f.clone()));
    let test = Action::new(move |_: &()| test_ai_provider());
    Effect::new(move |_| {
        if let Some(Ok(f)) = save.value().get() {
            form.set(f);
        }
    });
    let field = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&AiForm) -> String,
                      set: fn(&mut AiForm, String),
                      kind: &'static str| {
        view! {
            <label>
                {label}
                <input type=kind data-testid=testid prop:value=move || form.with(get) on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))/>
            </label>
        }
    };
    view! {
        <section class="card" data-testid="ai-provider">
            <h2>"AI provider"</h2>
            <p class="muted">{move || form.with(|f| match f.source.as_str() {
                "tenant" => "Configured for this organisation.".to_string(),
                "environment" => "Using the server's environment configuration.".to_string(),
                _ => "Using the built-in narrator: deterministic, offline, always available.".to_string(),
            })}</p>
            <div class="form grid grid-2">
                <label>
                    "Provider"
                    <select data-testid="ai-kind" prop:value=move || form.with(|f| f.provider.clone()) on:change=move |ev| form.update(|f| f.provider = event_target_value(&ev))>
                        <option value="builtin">"Built-in narrator"</option>
                        <option value="openai">"OpenAI-compatible (OpenAI, Ollama, LM Studio, vLLM)"</option>
                        <option value="anthropic">"Anthropic"</option>
                        <option value="gemini">"Google Gemini"</option>
                        <option value="bedrock">"Amazon Bedrock"</option>
                    </select>
                </label>
                {field("Model", "ai-model", |f| f.model.clone(), |f, v| f.model = v, "text")}
                {field("Base URL (optional)", "ai-base-url", |f| f.base_url.clone(), |f, v| f.base_url = v, "url")}
                {field("API key / access key id", "ai-key", |f| f.api_key.clone(), |f, v| f.api_key = v, "password")}
                {field("Region (Bedrock)", "ai-region", |f| f.region.clone(), |f, v| f.region = v, "text")}
                {field("Secret access key (Bedrock)", "ai-secret", |f| f.secret.clone(), |f, v| f.secret = v, "password")}
            </div>
            <div class="header-controls" style="margin-top:12px">
                <button class="btn btn-primary" data-testid="ai-save" disabled=move || save.pending().get() on:click=move |_| { save.dispatch(form.get_untracked()); }>
                    "Save"
                </button>
                <button class="btn" data-testid="ai-test" disabled=move || test.pending().get() on:click=move |_| { test.dispatch(()); }>
                    {move || if test.pending().get() { "Testing…" } else { "Test" }}
                </button>
                {move || save.value().get().map(|r| match r {
                    Ok(_) => view! { <span class="badge badge-green">"saved"</span> }.into_any(),
                    Err(e) => view! { <span class="field-error" role="alert">{e.message}</span> }.into_any(),
                })}
                {move || test.value().get().map(|r| match r {
                    Ok((ok, msg)) => view! { <span class=if ok { "badge badge-green" } else { "badge badge-red" } data-testid="ai-test-result">{msg}</span> }.into_any(),
                    Err(e) => view! { <span class="field-error">{e.message}</span> }.into_any(),
                })}
            </div>
        </section>
    }
}
