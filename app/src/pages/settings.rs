//! Settings pages: Reports and Integrations.

use leptos::prelude::*;
use leptos_meta::Title;

/// `/settings/reports`.
#[component]
pub fn ReportsPage() -> impl IntoView {
    view! {
        <Title text="Reports"/>
        <div class="page-header">
            <div>
                <h1>"Reports"</h1>
                <p class="muted">"Saved reports, their schedules and runs."</p>
            </div>
        </div>
        <div class="card empty">
            <p>"No reports yet. Open a dashboard and choose Save as Report."</p>
        </div>
    }
}

/// `/settings/integrations`.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    view! {
        <Title text="Integrations"/>
        <div class="page-header">
            <div>
                <h1>"Integrations"</h1>
                <p class="muted">"Notification destinations and the AI provider."</p>
            </div>
        </div>
        <div class="card empty">
            <p>"No notification destinations yet."</p>
        </div>
    }
}
