//! A small async client for the parts of the Vault / OpenBao HTTP API vaultkeeper uses.
//!
//! One [`VaultClient`] per process, cheap to clone (it shares the connection pool).
//! Each API area has its own file; all of them go through [`VaultClient::call`],
//! which turns HTTP outcomes into [`VaultError`] variants.

pub mod approle;
mod attempt;
mod call;
mod client;
mod error;
pub mod failover;
mod field;
pub mod http;
pub mod kv;
pub mod wrapping;

pub use client::{Auth, VaultClient};
pub use error::VaultError;
pub(crate) use field::field;
