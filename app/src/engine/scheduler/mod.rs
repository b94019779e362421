//! Scheduled and on-demand runs, from the cron expression to the receiving side — the part of
//! Narrate people trust to deliver every report once and to say truthfully what happened.
//!
//! - [`cron`]: 5-field POSIX/Vixie cron evaluated in IANA zones (our own evaluator; see its doc).
//! - [`tick`]: due schedules are claimed and their run inserted in one transaction.
//! - [`executor`]: runs execute in tasks of their own with bounded concurrency, outliving
//!   whoever started them; shutdown drains them.
//! - [`leases`]: a run belongs to the process that created it; that process renews its leases from
//!   one place; only a lapsed lease makes a run abandoned (running → failed, queued → adopted).
//! - [`runs`]: the pipeline (render, store artifacts, deliver, finish), fenced on ownership.
//! - [`ledger`]: one delivery per (run, destination), every attempt recorded as it happens,
//!   `unknown` when the process died mid-send, and re-send by a person.
//! - [`history`]: the run record as read by the API and the pages.
//! - [`retention`]: old artifacts' bytes are pruned in batches.
//! - [`ticker`]: the built-in ticker, supervised, with its health on `/healthz` and `/metrics`.
//!
//! The states and their transitions are types in `model::runs`; the tables are written only by
//! `engine::store`.

pub mod cron;
#[cfg(test)]
mod cron_crosscheck;
pub mod executor;
pub mod history;
pub mod leases;
pub mod ledger;
pub mod retention;
pub mod runs;
pub mod tick;
pub mod ticker;

pub use executor::{Done, Executor, RunRef};
pub use tick::{tick, Tick, TickCounts};
