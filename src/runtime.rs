//! The async runtimes the commands run on, and the signal that stops the
//! long-running ones: one copy for every command-line edge (`cli`, and the
//! `cli.rs` of `audit`, `insights` and `template`).

use anyhow::Context;
use std::future::Future;
use tokio::runtime::{Builder, Runtime};

/// A multi-threaded runtime, for commands that do many requests at once.
pub(crate) fn multi_thread() -> anyhow::Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A single-threaded runtime with at most `max_blocking` blocking threads: for
/// the daemon, idle nearly all the time (this keeps its memory small).
pub(crate) fn single_thread(max_blocking: usize) -> anyhow::Result<Runtime> {
    Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(max_blocking)
        .build()
        .context("cannot start the async runtime")
}

/// Resolves at the first SIGTERM or SIGINT. The handlers are installed when
/// this is called (inside the runtime), so call it before anything else: a
/// SIGTERM during start-up is then handled too. If SIGTERM cannot be handled,
/// a WARNING says so and only SIGINT stops.
pub(crate) fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    async move {
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot handle SIGTERM ({e}); stopping on SIGINT only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
