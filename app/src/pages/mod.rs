//! Pages, one file per page or page family.

pub mod dashboards;
pub mod destinations;
pub mod login;
pub mod reports;
pub mod settings;
pub mod team;

use leptos::prelude::*;
use leptos_router::components::Redirect;

/// `/`: goes to the Executive dashboard.
#[component]
pub fn Home() -> impl IntoView {
    view! { <Redirect path="/dashboards/executive"/> }
}

/// Unknown paths.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <div class="centered">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <a class="btn" href="/dashboards/executive">"Go to the Executive dashboard"</a>
            </div>
        </div>
    }
}
