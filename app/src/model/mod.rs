//! Wire and domain types shared by the browser (wasm) and the server (native).
//!
//! Everything here compiles for both targets: no I/O, no server-only crates.

pub mod api;
pub mod chart;
mod dashboard;
mod error;
mod identity;
pub mod report;
pub mod reports;
pub mod runs;
pub mod table;
pub mod team;

pub use chart::{Chart, ChartKind};
pub use dashboard::{
    Dashboard, DashboardData, Display, Period, SegmentOption, WidgetData, WidgetSpec, ATTRIBUTION_MODELS,
};
pub use error::{AppError, ErrorCode, FieldError};
pub use identity::{Me, Role, TenantView};
pub use report::{KpiLine, Narrative, Orientation, PageSetup, PaperSize, Report, SectionNarrative};
pub use table::{Cell, Column, ColumnKind, Table};
