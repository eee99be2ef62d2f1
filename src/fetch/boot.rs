//! `vaultkeeper fetch --boot`: what the boot units run. A secret whose cache
//! Vault confirmed within `bootCacheMaxAge` is rendered from it without
//! contacting Vault ([`crate::boot_cache`]); the rest is read as usual.

use super::locking::{lock_in_order, record_failure, under_lock, Locking};
use super::outcome::{FetchError, Outcome, Report};
use super::read::read_all;
use crate::render;
use crate::spec::{SecretSpec, Spec};
use crate::state;
use crate::vault::VaultClient;
use std::path::Path;
use std::time::Duration;

/// `vaultkeeper fetch --boot` (the boot units): [`run_with`] for `secrets` and
/// the `templates` rendered from them after it, except that a secret whose
/// cache Vault confirmed less than `bootCacheMaxAge` ago is rendered from it
/// without contacting Vault ([`crate::boot_cache`]), unless it feeds one of
/// `templates` whose inputs are not all so confirmed. When every secret can,
/// no login is done.
pub(crate) async fn run_boot(
    spec: &Spec,
    secrets: &[&SecretSpec],
    templates: &[&crate::template::TemplateSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let client = VaultClient::new(&spec.vault).map_err(FetchError::Client)?;
    let mut from_cache: Vec<&SecretSpec> = secrets
        .iter()
        .copied()
        .filter(
            |s| match crate::boot_cache::decide_now(s, &spec.state_dir) {
                crate::boot_cache::Decision::Render { .. } => true,
                crate::boot_cache::Decision::ReadVault(why) => {
                    tracing::debug!(secret = %s.name, "reading Vault at boot: {why}");
                    false
                }
            },
        )
        .collect();
    for t in templates {
        let inputs = t.secrets();
        if !inputs
            .iter()
            .all(|i| from_cache.iter().any(|s| s.name == *i))
        {
            from_cache.retain(|s| !inputs.contains(&s.name.as_str()));
        }
    }
    let mut report = Report {
        outcomes: Vec::new(),
    };
    let mut to_read: Vec<&SecretSpec> = secrets
        .iter()
        .copied()
        .filter(|s| !from_cache.iter().any(|c| c.name == s.name))
        .collect();
    if !from_cache.is_empty() {
        let names: Vec<String> = from_cache.iter().map(|s| s.name.clone()).collect();
        let (locks, mut refused) = lock_in_order(&spec.state_dir, names, lock_timeout);
        for s in from_cache {
            if refused.iter().any(|(n, _)| *n == s.name) {
                continue;
            }
            match boot_from_cache(s, &spec.state_dir) {
                Some(outcome) => report.outcomes.push((s.name.clone(), outcome)),
                // Changed under our feet (another writer): read it.
                None => to_read.push(s),
            }
        }
        drop(locks);
        report.outcomes.append(&mut refused);
    }
    if !to_read.is_empty() {
        let mut read = read_all(spec, &client, &to_read, lock_timeout).await?;
        report.outcomes.append(&mut read.outcomes);
    }
    report.outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(report)
}

/// Under the secret's lock: renders it from its confirmed cache when
/// [`crate::boot_cache::decide`] still says so with the files on disk now.
fn boot_from_cache(secret: &SecretSpec, state_dir: &Path) -> Option<Outcome> {
    let mut outcome = None;
    let locked = under_lock(secret, state_dir, Locking::Held, || {
        let crate::boot_cache::Decision::Render {
            entry,
            confirmed_age,
        } = crate::boot_cache::decide_now(secret, state_dir)
        else {
            return Ok(());
        };
        let rendered = render::render(secret, &entry.data)?;
        let mut st = state::load(state_dir, &secret.name);
        st.boot_cache_since = Some(crate::clock::now_unix());
        state::save(state_dir, &secret.name, &st);
        outcome = Some(Outcome::BootCache {
            rendered,
            version: entry.version,
            confirmed_age,
        });
        Ok(())
    });
    match locked {
        Ok(()) => outcome,
        Err(e) => {
            record_failure(state_dir, &secret.name, &e);
            Some(Outcome::Failed(e))
        }
    }
}
