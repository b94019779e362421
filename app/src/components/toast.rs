//! Toasts: short confirmations and errors in the corner, dismissed after a few seconds.

use leptos::prelude::*;

/// One toast.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    /// Unique id.
    pub id: u64,
    /// The message.
    pub text: String,
    /// Error styling.
    pub error: bool,
    /// An optional link (href, label).
    pub link: Option<(String, String)>,
}

/// The toast list, provided by the shell.
#[derive(Clone, Copy)]
pub struct Toasts(pub RwSignal<Vec<Toast>>);

impl Toasts {
    /// Shows a toast for 6 s (errors 10 s).
    pub fn show(&self, text: impl Into<String>, error: bool, link: Option<(String, String)>) {
        let list = self.0;
        let id = list.with_untracked(|l| l.iter().map(|t| t.id).max().unwrap_or(0) + 1);
        list.update(|l| l.push(Toast { id, text: text.into(), error, link }));
        let ms = if error { 10_000 } else { 6_000 };
        set_timeout(move || list.update(|l| l.retain(|t| t.id != id)), std::time::Duration::from_millis(ms));
    }
}

/// Provides the toast context and renders the stack.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = Toasts(RwSignal::new(Vec::new()));
    provide_context(toasts);
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.0.get() key=|t| t.id let:t>
                <div class=if t.error { "toast toast-error" } else { "toast" } data-testid="toast">
                    {t.text.clone()}
                    {t.link.clone().map(|(href, label)| view! { " " <a href=href>{label}</a> })}
                </div>
            </For>
        </div>
    }
}
