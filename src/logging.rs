//! Logging to stderr. Under systemd (`JOURNAL_STREAM` set) lines carry no
//! timestamp or colour, the journal adds its own. The level comes from
//! `VAULTKEEPER_LOG` (an `EnvFilter`, default `info`).
//!
//! Secret values are never passed to `tracing`: types that hold them
//! ([`crate::secret::Secret`], [`crate::vault::kv::SecretData`]) print `***`.

use tracing_subscriber::EnvFilter;

pub(crate) fn init() {
    let filter =
        EnvFilter::try_from_env("VAULTKEEPER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().with_ansi(false).init();
    } else {
        builder.with_ansi(false).init();
    }
}
