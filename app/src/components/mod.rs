//! Reusable UI pieces.

pub mod export_menu;
pub mod shell;
pub mod toast;
pub mod widgets;
