//! Wire and domain types shared by the browser (wasm) and the server (native).
//!
//! Everything here compiles for both targets: no I/O, no server-only crates.

mod dashboard;
mod error;
mod identity;

pub use dashboard::{Dashboard, Period};
pub use error::{AppError, ErrorCode, FieldError};
pub use identity::{Me, Role, TenantView};
