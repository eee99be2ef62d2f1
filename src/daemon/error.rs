//! [`DaemonError`]: why `vaultkeeper run` could not start (a bad spec, an
//! unusable `vault` section). Its own file: `report` maps it to exit codes
//! without depending on the daemon's internals.

use crate::spec::SpecError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum DaemonError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{0}; fix vault.* in the spec")]
    Client(VaultError),
}
