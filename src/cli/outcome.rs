//! What `bootstrap` and `fetch` did, as log lines and an exit code.

use crate::report;
use crate::spec::Spec;
use crate::{bootstrap, exit, fetch};

pub(crate) fn report_bootstrap(
    spec: &Spec,
    result: Result<bootstrap::Bootstrapped, bootstrap::BootstrapError>,
    strict: bool,
) -> u8 {
    use bootstrap::Bootstrapped::*;
    let a = &spec.approle;
    match result {
        Ok(AlreadyDone) => {
            tracing::info!(
                "already bootstrapped: {} and {} exist; nothing to do",
                a.role_id_file.display(),
                a.secret_id_file.display()
            );
            exit::OK
        }
        Ok(StoredBundle) => {
            tracing::info!(
                "bootstrapped: stored role-id in {} and secret-id in {} (0600)",
                a.role_id_file.display(),
                a.secret_id_file.display()
            );
            exit::OK
        }
        Ok(StoredSecretId) => {
            tracing::info!(
                "bootstrapped: stored secret-id in {} (0600)",
                a.secret_id_file.display()
            );
            exit::OK
        }
        Err(e) => {
            tracing::error!("bootstrap failed: {}", report::message(&e));
            if strict {
                e.exit_code()
            } else {
                tracing::info!("exiting 0 so the boot goes on (use --strict to fail instead)");
                exit::OK
            }
        }
    }
}

pub(crate) fn report_fetch(report: &fetch::Report, spec: &crate::spec::Spec) -> u8 {
    use crate::render::Rendered;
    for (name, outcome) in &report.outcomes {
        match outcome {
            fetch::Outcome::Fresh {
                rendered: Rendered::Changed { generation, files },
                version,
            } => {
                tracing::info!(
                    "{name}: rendered {files} file(s) from Vault{} as generation {generation}",
                    version
                        .map(|v| format!(" (version {v})"))
                        .unwrap_or_default()
                )
            }
            fetch::Outcome::Fresh {
                rendered: Rendered::Unchanged,
                ..
            } => {
                tracing::info!("{name}: unchanged, files left as they are")
            }
            fetch::Outcome::FromCache { age, reason, .. } => tracing::warn!(
                "{name}: rendered from the last-known-good cache, {} old, because {}",
                crate::clock::duration_words(*age),
                report::vault_message(reason)
            ),
            fetch::Outcome::BootCache { confirmed_age, .. } => {
                crate::boot_cache::log_rendered(name, confirmed_age, spec)
            }
            fetch::Outcome::Failed(e) => tracing::error!("{}", report::message(e)),
        }
    }
    report.exit_code()
}
