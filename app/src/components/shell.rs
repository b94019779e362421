//! The signed-in app shell: sidebar navigation, top bar with tenant, user, role and sign-out.

use crate::api::auth::{current_user, Logout};
use crate::model::{Dashboard, Me};
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_location;

/// The current user, provided to every page inside the shell.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, crate::model::AppError>>);

/// The layout around every signed-in page.
#[component]
pub fn Shell() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    provide_context(CurrentUser(me));
    let logout = ServerAction::<Logout>::new();
    let location = use_location();
    let nav_class = move |href: &'static str| {
        let path = location.pathname.get();
        if path == href || path.starts_with(&format!("{href}/")) {
            "nav-link active"
        } else {
            "nav-link"
        }
    };
    view! {
        <div class="app">
            <aside class="sidebar" aria-label="Main navigation">
                <a class="brand" href="/dashboards/executive">
                    <span class="brand-mark" aria-hidden="true">"N"</span>
                    <span class="brand-name">"Narrate"</span>
                </a>
                <nav>
                    <p class="nav-heading">"Dashboards"</p>
                    <ul>
                        {Dashboard::ALL
                            .into_iter()
                            .map(|d| {
                                let href: &'static str = match d {
                                    Dashboard::Executive => "/dashboards/executive",
                                    Dashboard::Business => "/dashboards/business",
                                    Dashboard::Operations => "/dashboards/operations",
                                    Dashboard::ModelHealth => "/dashboards/model-health",
                                    Dashboard::DataHealth => "/dashboards/data-health",
                                    Dashboard::Attribution => "/dashboards/attribution",
                                };
                                view! {
                                    <li>
                                        <A href=href attr:class=move || nav_class(href)>
                                            {d.title()}
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <p class="nav-heading">"Settings"</p>
                    <ul>
                        <li>
                            <A href="/settings/reports" attr:class=move || nav_class("/settings/reports")>
                                "Reports"
                            </A>
                        </li>
                        <li>
                            <A href="/settings/integrations" attr:class=move || nav_class("/settings/integrations")>
                                "Integrations"
                            </A>
                        </li>
                        <li>
                            <A href="/settings/team" attr:class=move || nav_class("/settings/team")>
                                "Team"
                            </A>
                        </li>
                        <li>
                            <A href="/settings/profile" attr:class=move || nav_class("/settings/profile")>
                                "Your profile"
                            </A>
                        </li>
                    </ul>
                </nav>
            </aside>
            <div class="main">
                <header class="topbar">
                    <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                        {move || {
                            me.get()
                                .map(|r| match r {
                                    Ok(Some(me)) => {
                                        view! {
                                            <div class="who">
                                                <span class="tenant" data-testid="tenant">{me.tenant.name.clone()}</span>
                                                <span class="user" data-testid="user">{me.email.clone()}</span>
                                                <span class=format!("role role-{}", me.role) data-testid="role">
                                                    {me.role.to_string()}
                                                </span>
                                            </div>
                                        }
                                            .into_any()
                                    }
                                    _ => view! { <a href="/login">"Sign in"</a> }.into_any(),
                                })
                        }}
                    </Transition>
                    <ActionForm action=logout attr:class="logout">
                        <button type="submit" class="btn btn-ghost" data-testid="logout">
                            "Sign out"
                        </button>
                    </ActionForm>
                </header>
                <main class="content">
                    <Outlet/>
                </main>
                <crate::components::toast::ToastHost/>
            </div>
        </div>
    }
}
