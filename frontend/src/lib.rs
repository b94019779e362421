#![recursion_limit = "256"]
//! The browser entry point: hydrates the server-rendered app. Nothing else lives here.
#![allow(unsafe_code)] // wasm-bindgen exports are unsafe extern functions by construction

/// Called by the generated JS glue once the wasm module is loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
