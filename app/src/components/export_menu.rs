//! The Export ▾ menu: renders exactly the view on screen through `POST /api/v1/reports/preview`
//! and downloads the file; shows progress on the button and an error toast on failure. Below the
//! formats, a "Page setup" group of radio items (A4 or Letter, portrait or landscape) sets the
//! page of the PDF and of the printed HTML; choosing one keeps the menu open.

use super::toast::Toasts;
use crate::model::{Orientation, PageSetup, PaperSize};
use leptos::prelude::*;

/// The page setups the menu offers, in order.
const PAGES: [PageSetup; 4] = [
    PageSetup { size: PaperSize::A4, orientation: Orientation::Portrait },
    PageSetup { size: PaperSize::A4, orientation: Orientation::Landscape },
    PageSetup { size: PaperSize::Letter, orientation: Orientation::Portrait },
    PageSetup { size: PaperSize::Letter, orientation: Orientation::Landscape },
];

/// The export request for the view on screen.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ExportView {
    /// Dashboard key.
    pub dashboard: String,
    /// Period key.
    pub period: Option<String>,
    /// Segment id.
    pub segment_id: Option<String>,
    /// Source parameters (`groupBy`, `model`).
    pub params: Vec<(String, String)>,
}

/// The menu: a menu button as WAI-ARIA describes it. Enter, Space or ↓ open it on the first item
/// (↑ on the last); ↑/↓/Home/End move between items; Enter or Space chooses; Escape closes and
/// returns focus to the button; Tab or a click outside closes it.
#[component]
pub fn ExportMenu(view: Signal<ExportView>) -> impl IntoView {
    let open = RwSignal::new(false);
    let busy = RwSignal::new(None::<&'static str>);
    let toasts = use_context::<Toasts>();
    let button = NodeRef::<leptos::html::Button>::new();
    let menu = NodeRef::<leptos::html::Div>::new();
    let items = super::save_report::FORMATS;
    let page = RwSignal::new(PageSetup::default());
    // Every item the arrows move through: the formats, then the page setups.
    const N: usize = super::save_report::FORMATS.len() + PAGES.len();
    let refs: [NodeRef<leptos::html::Button>; N] = std::array::from_fn(|_| NodeRef::new());
    // The item to focus once the menu is on screen.
    let focus_on = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        if let (true, Some(i)) = (open.get(), focus_on.get()) {
            if let Some(el) = refs[i].get() {
                let _ = el.focus();
                focus_on.set(None);
            }
        }
    });
    let close = move |refocus: bool| {
        open.set(false);
        if refocus {
            if let Some(b) = button.get_untracked() {
                let _ = b.focus();
            }
        }
    };
    let start = move |format: &'static str, label: &'static str| {
        close(true);
        busy.set(Some(label));
        let v = view.get_untracked();
        let p = page.get_untracked();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if let Err(msg) = download(&v, format, p).await {
                if let Some(t) = toasts {
                    t.show(format!("Export failed: {msg}"), true, None);
                }
            }
            busy.set(None);
        });
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (v, format, toasts, p);
        }
    };
    let open_at = move |i: usize| {
        open.set(true);
        focus_on.set(Some(i));
    };
    let on_button_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        _ if busy.get_untracked().is_some() => {}
        "ArrowDown" | "Enter" | " " => {
            ev.prevent_default();
            open_at(0);
        }
        "ArrowUp" => {
            ev.prevent_default();
            open_at(N - 1);
        }
        "Escape" => close(true),
        _ => {}
    };
    let focused = move || -> Option<usize> {
        #[cfg(feature = "hydrate")]
        {
            let active = document().active_element();
            refs.iter().position(|r| {
                r.get_untracked().is_some_and(|el| {
                    let el: &web_sys::Element = el.as_ref();
                    active.as_ref() == Some(el)
                })
            })
        }
        #[cfg(not(feature = "hydrate"))]
        None
    };
    let on_menu_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = N;
        let at = focused().unwrap_or(0);
        let go = |i: usize| {
            if let Some(el) = refs[i].get_untracked() {
                let _ = el.focus();
            }
        };
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                go((at + 1) % n);
            }
            "ArrowUp" => {
                ev.prevent_default();
                go((at + n - 1) % n);
            }
            "Home" => {
                ev.prevent_default();
                go(0);
            }
            "End" => {
                ev.prevent_default();
                go(n - 1);
            }
            "Escape" => {
                ev.prevent_default();
                close(true);
            }
            "Tab" => close(false),
            _ => {}
        }
    };
    // A click anywhere outside the menu and its button closes it.
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::pointerdown, move |ev| {
            if !open.get_untracked() {
                return;
            }
            let target = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Node>(t).ok());
            let inside = |el: Option<web_sys::Element>| {
                el.is_some_and(|el| {
                    let el: web_sys::Node = el.into();
                    el.contains(target.as_ref())
                })
            };
            let in_menu = inside(menu.get_untracked().map(Into::into));
            let on_button = inside(button.get_untracked().map(Into::into));
            if !in_menu && !on_button {
                open.set(false);
            }
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <div class="menu">
            <button
                class="btn"
                data-testid="export"
                node_ref=button
                aria-haspopup="menu"
                aria-controls="export-menu"
                aria-expanded=move || open.get().to_string()
                // aria-disabled, not disabled, while exporting: the button keeps the keyboard focus.
                aria-disabled=move || busy.get().is_some().to_string()
                on:click=move |_| {
                    if busy.get_untracked().is_none() {
                        open.update(|o| *o = !*o)
                    }
                }
                on:keydown=on_button_key
            >
                {move || match busy.get() {
                    Some(l) => format!("Exporting {l}…"),
                    None => "Export ▾".to_string(),
                }}
            </button>
            <Show when=move || open.get()>
                <div class="menu-list" role="menu" id="export-menu" aria-label="Export as" node_ref=menu on:keydown=on_menu_key>
                    {items
                        .into_iter()
                        .enumerate()
                        .map(|(i, (f, l))| {
                            view! {
                                <button role="menuitem" tabindex="-1" node_ref=refs[i] data-testid=format!("export-{f}") on:click=move |_| start(f, l)>
                                    {l}
                                </button>
                            }
                        })
                        .collect_view()}
                    <div role="separator" class="menu-sep"></div>
                    <div role="group" aria-label="Page setup" class="menu-group">
                        <div class="menu-group-label" aria-hidden="true">"Page setup (PDF, HTML)"</div>
                        {PAGES
                            .into_iter()
                            .enumerate()
                            .map(|(i, p)| {
                                view! {
                                    <button role="menuitemradio" tabindex="-1" node_ref=refs[items.len() + i]
                                        aria-checked=move || (page.get() == p).to_string()
                                        on:click=move |_| page.set(p)>
                                        {p.label()}
                                    </button>
                                }
                            })
                            .collect_view()}
                    </div>
                </div>
            </Show>
        </div>
    }
}

#[cfg(feature = "hydrate")]
async fn download(v: &ExportView, format: &str, page: PageSetup) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let params: serde_json::Map<String, serde_json::Value> =
        v.params.iter().map(|(k, x)| (k.clone(), x.clone().into())).collect();
    let body = serde_json::json!({
        "dashboard": v.dashboard, "format": format, "period": v.period, "segmentId": v.segment_id,
        "narrative": true, "params": params, "page": page,
    });
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    init.set_body(&wasm_bindgen::JsValue::from_str(&body.to_string()));
    let headers = web_sys::Headers::new().map_err(|_| "headers")?;
    headers.set("content-type", "application/json").map_err(|_| "headers")?;
    headers.set("x-requested-with", "narrate").map_err(|_| "headers")?;
    init.set_headers(&headers);
    let req = web_sys::Request::new_with_str_and_init("/api/v1/reports/preview", &init).map_err(|_| "request")?;
    let window = web_sys::window().ok_or("no window")?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|_| "the server could not be reached")?
        .unchecked_into();
    if !resp.ok() {
        let text = JsFuture::from(resp.text().map_err(|_| "response")?)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        let msg = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {}", resp.status()));
        return Err(msg);
    }
    let name = resp
        .headers()
        .get("content-disposition")
        .ok()
        .flatten()
        .and_then(|d| d.split("filename=\"").nth(1).map(|s| s.trim_end_matches('"').to_string()))
        .unwrap_or_else(|| format!("report.{format}"));
    let blob: web_sys::Blob = JsFuture::from(resp.blob().map_err(|_| "blob")?)
        .await
        .map_err(|_| "the download was interrupted")?
        .unchecked_into();
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "object URL")?;
    let doc = window.document().ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(|_| "anchor")?.unchecked_into();
    a.set_href(&url);
    a.set_download(&name);
    doc.body().ok_or("no body")?.append_child(&a).map_err(|_| "append")?;
    a.click();
    a.remove();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}
