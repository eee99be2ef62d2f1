//! What `vaultkeeper --version` prints: the crate's version and the git revision
//! it was built from (see build.rs; "unknown" when built without git metadata).

/// `0.1.0 (git 0123456789ab)`.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("VAULTKEEPER_GIT_REV"),
    ")"
);
