//! Repositories: small free functions over the pool or a transaction, one file per noun, with
//! explicit column lists and portable SQL (`$n` placeholders, epoch-ms instants, text ids).

pub mod api_keys;
pub mod audit;
pub mod catalogue;
pub mod sessions;
pub mod tenants;
pub mod users;
