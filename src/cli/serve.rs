//! The long-running commands: `run` (the daemon) and `chat serve`, each until SIGTERM or SIGINT.

use crate::exit;
use crate::report;
use crate::runtime::shutdown_signal;
use crate::spec::load_spec;
use std::path::{Path, PathBuf};

/// `vaultkeeper run`: a single-threaded runtime (the daemon is idle nearly all
/// the time; this keeps its memory small) until SIGTERM or SIGINT.
pub(crate) fn run_daemon(spec_path: PathBuf) -> anyhow::Result<u8> {
    crate::runtime::single_thread(4)?.block_on(async {
        // Installed before anything else, so a SIGTERM during start-up is handled too.
        let shutdown = shutdown_signal();
        match crate::daemon::run(spec_path, shutdown).await {
            Ok(()) => Ok(exit::OK),
            Err(crate::daemon::DaemonError::Spec(e)) => Err(e.into()),
            Err(e) => Err(e.into()),
        }
    })
}

/// `vaultkeeper chat serve`: the Slack endpoint alone, until SIGTERM or SIGINT.
pub(crate) fn chat_serve(spec_path: &Path) -> anyhow::Result<u8> {
    let spec = load_spec(spec_path)?;
    crate::runtime::multi_thread()?.block_on(async {
        let shutdown = shutdown_signal();
        match crate::chat::server::run_standalone(spec, shutdown).await {
            Ok(()) => Ok(exit::OK),
            Err(e) => {
                tracing::error!("{}", report::message(&e));
                Ok(e.exit_code())
            }
        }
    })
}
