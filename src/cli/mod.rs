//! The command line: parsing, logging set-up, and the one place where errors
//! become messages (with `anyhow` context) and exit codes (see [`crate::exit`]).

//!
//! - [`args`]: the grammar (clap types; `audit`, `insights` and `template`
//!   keep theirs in their own `cli.rs`);
//! - [`dispatch`]: from a command to the function that does the work;
//! - `check`, `outcome`, `provision`, `serve`: the edges of those commands.

mod args;
mod check;
mod dispatch;
mod outcome;
mod provision;
mod serve;

pub(crate) use args::Cli;

use crate::{exit, report};
use clap::Parser;
use std::process::ExitCode;

/// The binary's `main`: parse, harden, set up logging, run, map errors to exit codes.
pub fn main() -> ExitCode {
    let hardening = crate::dumpable::harden();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    crate::logging::init();
    for problem in hardening {
        tracing::debug!("{problem}");
    }
    // Files are opened by walking from `/` (no symlink games), so a relative
    // --spec is made absolute here, against the working directory.
    let mut cli = cli;
    if let Ok(abs) = std::path::absolute(&cli.spec) {
        cli.spec = abs;
    }
    match dispatch::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(report::fail(e.as_ref())),
    }
}
