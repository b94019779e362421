//! Server functions: thin doors into the engine. Each authorises the caller, calls the engine and
//! maps its error; the same engine functions serve the REST API, so the rules are enforced once.

pub mod auth;
pub mod dashboards;
pub mod destinations;
pub mod runs;
pub mod schedules;
pub mod settings;
pub mod team;
pub mod templates;

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    //! Access to the request's state and principal from inside a server function.
    use crate::engine::auth::Principal;
    use crate::engine::AppState;
    use crate::model::AppError;
    use leptos::prelude::use_context;

    /// The application state.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| crate::engine::error::internal("context", "AppState missing"))
    }

    /// The signed-in caller, or 401.
    pub fn principal() -> Result<Principal, AppError> {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Principal>().cloned())
            .ok_or_else(|| AppError::unauthenticated("please sign in"))
    }
}
