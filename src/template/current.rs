//! A template rendered from its secrets' current data, their last-known-good
//! caches, under their locks ([`render_current`]); and what `render --dry-run`
//! lists ([`dry_run_lines`]).

use super::error::TemplateError;
use super::render::{self, Written};
use crate::cache;
use crate::spec::template::{Source, TemplateSpec};
use crate::spec::Spec;
use std::collections::BTreeMap;

/// Loads the current data of the template's secrets (their caches).
fn current_data(
    spec: &Spec,
    t: &TemplateSpec,
) -> Result<BTreeMap<String, crate::vault::kv::SecretData>, TemplateError> {
    let mut data = BTreeMap::new();
    for name in t.secrets() {
        let Some(secret) = spec.secrets.get(name) else {
            // resolve() refuses templates naming unknown secrets.
            continue;
        };
        match cache::load(secret) {
            Ok(Some(entry)) => {
                data.insert(name.to_string(), entry.data);
            }
            Ok(None) => {
                return Err(TemplateError::NoData {
                    template: t.name.clone(),
                    secret: name.to_string(),
                    cache: secret.cache_dir.clone(),
                })
            }
            Err(source) => {
                return Err(TemplateError::Cache {
                    template: t.name.clone(),
                    path: t.path.clone(),
                    source: Box::new(source),
                })
            }
        }
    }
    Ok(data)
}

/// Renders a template from its secrets' current data (blocking: file I/O).
///
/// The locks of all its secrets are held meanwhile (taken in name order), so no
/// other writer changes one of them between reading its data and the rename.
pub(crate) fn render_current(spec: &Spec, t: &TemplateSpec) -> Result<Written, TemplateError> {
    let _locks = crate::lock::SecretLock::acquire_all(
        &spec.state_dir,
        t.secrets(),
        crate::lock::DEFAULT_TIMEOUT,
    )
    .map_err(|source| TemplateError::Lock {
        template: t.name.clone(),
        source: Box::new(source),
    })?;
    let data = current_data(spec, t)?;
    let bytes = render::build(t, &data).map_err(|problems| TemplateError::Data {
        template: t.name.clone(),
        path: t.path.clone(),
        problems,
    })?;
    render::write(t, &spec.state_dir, &bytes).map_err(|source| TemplateError::Write {
        template: t.name.clone(),
        source: Box::new(source),
    })
}

/// `vaultkeeper render --template NAME --dry-run`: the placeholders it would
/// fill, one per line, names only. An envFrom template lists the keys of its
/// secrets' current data when it is readable.
pub(crate) fn dry_run_lines(spec: &Spec, t: &TemplateSpec) -> Vec<String> {
    match &t.source {
        Source::Content(_) => t.placeholders().iter().map(|p| p.to_string()).collect(),
        Source::EnvFrom(names) => {
            let mut lines = Vec::new();
            for n in names {
                let keys = spec
                    .secrets
                    .get(n)
                    .and_then(|s| cache::load(s).ok().flatten())
                    .map(|e| e.data.0.keys().cloned().collect::<Vec<_>>());
                match keys {
                    Some(keys) => lines.extend(keys.into_iter().map(|k| format!("{n}.{k}"))),
                    None => lines.push(format!(
                        "{n}.* (every key of secret {n}; its keys are known once it was fetched)"
                    )),
                }
            }
            lines
        }
    }
}
