//! The server's integration tests, one binary (it links once): the real router on 127.0.0.1:0
//! over a fresh SQLite file — and PostgreSQL when `TEST_DATABASE_URL` is set — driven through the
//! public API, and the real `narrate` binary where a test kills, signals or multiplies processes.

#[macro_use]
mod common;

mod crash;
mod dashboards;
mod destinations;
mod export;
mod golden;
mod identity;
mod keys;
mod ledger;
mod lifecycle;
mod limits;
mod multiprocess;
mod narrative;
mod openapi;
mod preview;
mod reports;
mod resend;
mod scheduler;
mod secrets;
mod send_when;
mod shutdown;
mod team;
mod upgrade;
