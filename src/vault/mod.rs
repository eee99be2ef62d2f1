//! A small async client for the parts of the Vault / OpenBao HTTP API vaultkeeper uses.
//!
//! One [`VaultClient`] per process, cheap to clone (it shares the connection pool).
//! Each API area has its own file; all of them go through [`VaultClient::call`],
//! which turns HTTP outcomes into [`VaultError`] variants.

pub(crate) mod approle;
mod attempt;
mod call;
mod client;
mod error;
pub(crate) mod failover;
mod field;
pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod wrapping;

pub(crate) use client::{Auth, VaultClient};
pub(crate) use error::VaultError;
pub(crate) use field::field;
