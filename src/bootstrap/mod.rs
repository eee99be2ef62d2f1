//! `vaultkeeper bootstrap`: first boot. Unwraps a single-use, time-limited
//! response-wrapped token into the AppRole role-id and secret-id files (0600 in a
//! 0700 directory). Every failure is reported with what to do; by default none of
//! them fails the boot.
//!
//! Vault answers "wrapping token is not valid or does not exist" both for a used
//! and for an expired token. To tell them apart, bootstrap records what
//! `sys/wrapping/lookup` said about each token it has seen (keyed by the token's
//! SHA-256, never the token) in `<stateDir>/bootstrap/tokens.json`: a token seen
//! before is "expired" past its creation time + TTL, else "already used". A token
//! never seen before can only be reported as "used or expired".

mod error;
mod seen_tokens;
mod store;
mod token;
mod unwrap;

pub(crate) use error::BootstrapError;
#[cfg(test)]
pub(crate) use token::{read_token, CREDENTIAL};
pub(crate) use unwrap::{run, Bootstrapped};

#[cfg(test)]
mod tests;
