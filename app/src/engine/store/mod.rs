//! Repositories: small free functions over the pool or a transaction, one file per noun, with
//! explicit column lists and portable SQL (`$n` placeholders, epoch-ms instants, text ids). Each
//! table has exactly one writer module here; a row struct and one `from_row` per table.

pub mod api_keys;
pub mod artifacts;
pub mod audit;
pub mod catalogue;
pub mod deliveries;
pub mod destinations;
pub mod runs;
pub mod schedules;
pub mod sessions;
pub mod templates;
pub mod tenants;
pub mod users;
