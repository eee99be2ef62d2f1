//! A string that holds a secret: never printed by `Debug`/`Display`, zeroed on drop.

use std::fmt;
use zeroize::Zeroize;

/// A secret string (token, secret-id, wrapped token). Its `Debug` output is
/// `Secret(***)` so that it can never reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret value. Call sites are the few places that must send it to Vault
    /// or write it to a 0600 file.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests;
