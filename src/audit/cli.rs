//! `vaultkeeper audit listen` and `vaultkeeper audit replay`.

use super::AuditSpec;
use crate::exit;
use crate::report::{Failure, UsageContext};
use crate::spec::DEFAULT_SPEC_PATH;
use anyhow::Context;
use clap::Subcommand;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Listen for the socket audit device and alert Slack, until SIGTERM/SIGINT.
    Listen,
    /// Run the alert rules over a file of audit lines; print one JSON object per
    /// matching event (`--coalesce`: the alerts as Slack would get them).
    /// Without a spec (the default path absent) the default rules apply.
    Replay {
        /// A file audit device's log or a capture of the socket ("-" = stdin).
        file: PathBuf,
        /// Coalesce as the listener does for Slack (summaries listing each event).
        #[arg(long)]
        coalesce: bool,
    },
}

pub(crate) fn run(spec_path: &Path, cmd: AuditCommand) -> anyhow::Result<u8> {
    match cmd {
        AuditCommand::Listen => listen(spec_path),
        AuditCommand::Replay { file, coalesce } => replay(spec_path, &file, coalesce),
    }
}

fn listen(spec_path: &Path) -> anyhow::Result<u8> {
    // The listener never talks to Vault: it runs before the address is pinned.
    let spec = crate::spec::load_spec_from(spec_path, crate::pin::Source::NotNeeded)?;
    let Some(audit) = spec.audit.clone() else {
        return Err(Failure::usage(
            format!("{}: no \"audit\" section", spec_path.display()),
            "add one with at least \"listen\" (see docs/how-to/audit-alerts.md)",
        )
        .into());
    };
    let rt = crate::runtime::multi_thread()?;
    let stats = rt.block_on(async {
        let shutdown = crate::runtime::shutdown_signal();
        super::serve(&audit, &spec.state_dir, shutdown).await
    })?;
    tracing::info!(
        "audit listener stopped: {} lines read, {} entries, {} alerts",
        stats.lines_read,
        stats.entries,
        stats.alerts.values().sum::<u64>()
    );
    Ok(exit::OK)
}

fn replay(spec_path: &Path, file: &Path, coalesce: bool) -> anyhow::Result<u8> {
    let spec = if spec_path.exists() {
        let text = std::fs::read_to_string(spec_path).usage_err(
            format!("cannot read spec {}", spec_path.display()),
            "pass the right file with --spec",
        )?;
        super::spec::from_json(&spec_path.display().to_string(), &text)?
    } else if spec_path == Path::new(DEFAULT_SPEC_PATH) {
        AuditSpec::defaults()
    } else {
        return Err(Failure::usage(
            format!("spec {} does not exist", spec_path.display()),
            "pass an existing --spec, or none for the default rules",
        )
        .into());
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let report = if file == Path::new("-") {
        super::replay::replay(&spec, coalesce, std::io::stdin().lock(), &mut out)
    } else {
        let f = std::fs::File::open(file).usage_err(
            format!("cannot open audit log {}", file.display()),
            "give a file audit device's log or a socket capture (\"-\" reads stdin)",
        )?;
        if !f
            .metadata()
            .is_ok_and(|m| m.is_file() || m.file_type().is_fifo())
        {
            return Err(Failure::usage(
                format!("audit log {} is not a regular file", file.display()),
                "give a file audit device's log or a socket capture (\"-\" reads stdin)",
            )
            .into());
        }
        super::replay::replay(&spec, coalesce, f, &mut out)
    }
    .with_context(|| format!("replaying {}", file.display()))?;
    std::io::Write::flush(&mut out)?;
    let c = &report.counts;
    tracing::info!(
        "replayed {} lines ({} entries): {} alerts; dropped {} not JSON, {} duplicates, {} too long, {} invalid UTF-8, {} partial",
        report.lines,
        c.entries,
        report.alerts,
        c.not_json,
        c.duplicates,
        report.dropped_too_long,
        report.dropped_invalid_utf8,
        report.dropped_partial
    );
    Ok(exit::OK)
}
