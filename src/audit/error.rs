//! What can stop the audit listener from starting.

use crate::fs::FsError;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Bind(#[from] super::bind::BindError),
    #[error(transparent)]
    Peer(#[from] super::peer::PeerError),
    #[error(
        "cannot prepare the spill directory {path}: {source} (check stateDir and its permissions)"
    )]
    Spill {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit state directory: {0} (check stateDir and its permissions)")]
    State(#[from] FsError),
    #[error("the audit section has no listen address; add one to audit.listen")]
    NoListener,
    #[error("cannot start the audit rule engine thread: {0}")]
    Thread(std::io::Error),
}
