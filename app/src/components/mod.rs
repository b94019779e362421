//! Reusable UI pieces.

pub mod shell;
