//! Narrate: the one codebase compiled twice — to wasm for the browser (`hydrate`) and to native
//! code for the server (`ssr`). This file holds the HTML shell, the app and its routes.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod engine;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

/// The Content-Security-Policy of a page whose inline scripts carry `nonce`: scripts only from
/// this site or with the nonce, wasm allowed to compile, nothing framed, no plugins, forms and
/// connections to this site only. Inline `style` attributes stay allowed (charts and layout use
/// them; they cannot run code).
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // The page's policy names the nonce its hydration scripts carry (see `server::router`).
        let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            let csp = content_security_policy(nonce.as_deref());
            if let Ok(v) = http::HeaderValue::from_str(&csp) {
                resp.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: routes inside the signed-in shell, and the login page outside it.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::time::provide_hydrated();
    // Marks the page as interactive once the wasm has hydrated (end-to-end tests wait for it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/narrate.css"/>
        <Title formatter=|t: String| if t.is_empty() { "Narrate".to_string() } else { format!("{t} · Narrate") }/>
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <ParentRoute path=path!("") view=components::shell::Shell>
                    <Route path=path!("") view=pages::Home/>
                    <Route path=path!("dashboards/:key") view=pages::dashboards::DashboardPage/>
                    <Route path=path!("settings/reports") view=pages::reports::ReportsPage/>
                    <Route path=path!("settings/reports/:id") view=pages::reports::TemplatePage/>
                    <Route path=path!("reports/runs/:id") view=pages::reports::RunPage/>
                    <Route path=path!("settings/integrations") view=pages::settings::IntegrationsPage/>
                    <Route path=path!("settings/team") view=pages::team::TeamPage/>
                    <Route path=path!("settings/profile") view=pages::team::ProfilePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
