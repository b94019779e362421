//! Reusable UI pieces.

pub mod export_menu;
pub mod save_report;
pub mod shell;
pub mod time;
pub mod toast;
pub mod widgets;
