//! Templates: one file built from the keys of several secrets, e.g. a
//! `grafana.ini` with a password inside, or a systemd `EnvironmentFile=`.
//!
//! - [`crate::spec::template`]: the spec's `templates` section (raw JSON,
//!   defaults, validation) and [`parse`], `content` with `{{ SECRET.KEY }}`
//!   placeholders.
//! - [`env`]: `envFrom` lines quoted for systemd's `EnvironmentFile=`.
//! - [`render`]: building the bytes and writing the file atomically.
//!
//! A template is rendered from its secrets' current data, which is their
//! last-known-good cache (written after every successful read from Vault, and
//! what rendered the secrets themselves when Vault was unreachable): a template
//! whose secrets came from the cache is rendered from the cache too, and the
//! rendered text itself is never cached. It is rendered after its secrets and
//! while holding their locks, so it never mixes two versions of one secret.

pub mod cli;
pub mod env;
pub mod render;

pub use crate::spec::template::{parse, Source, TemplateSpec};
pub use render::Written;

use crate::cache::{self, CacheError};
use crate::fetch::{Outcome, Report};
use crate::spec::{SecretSpec, Spec};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {template}: secret {secret} was never fetched (no cached data in {cache}): run `vaultkeeper fetch {secret}`; the template was not rendered")]
    NoData {
        template: String,
        secret: String,
        cache: PathBuf,
    },
    #[error("template {template}: {source}; the previous version at {path} is kept")]
    Cache {
        template: String,
        path: PathBuf,
        #[source]
        source: Box<CacheError>,
    },
    #[error("template {template}: {}; nothing was written, the previous version at {path} is kept", .problems.join("; "))]
    Data {
        template: String,
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("template {template}: not rendered because secret {secret} failed (see its error); the previous version at {path} is kept")]
    SecretFailed {
        template: String,
        secret: String,
        path: PathBuf,
    },
    #[error("template {template}: {source}")]
    Lock {
        template: String,
        #[source]
        source: Box<crate::lock::LockError>,
    },
    #[error("template {template}: {source}")]
    Write {
        template: String,
        #[source]
        source: Box<render::WriteError>,
    },
}

impl TemplateError {
    pub fn exit_code(&self) -> u8 {
        crate::exit::RENDER
    }
}

/// The secrets and templates `fetch NAMES` works on: all of both when no name
/// is given; a template brings its secrets along.
pub fn select<'a>(
    spec: &'a Spec,
    names: &[String],
) -> Result<(Vec<&'a SecretSpec>, Vec<&'a TemplateSpec>), String> {
    if names.is_empty() {
        return Ok((
            spec.secrets.values().collect(),
            spec.templates.values().collect(),
        ));
    }
    let mut secrets: Vec<&SecretSpec> = Vec::new();
    let mut templates: Vec<&TemplateSpec> = Vec::new();
    for n in names {
        if let Some(s) = spec.secrets.get(n) {
            if !secrets.iter().any(|x| x.name == s.name) {
                secrets.push(s);
            }
        } else if let Some(t) = spec.templates.get(n) {
            if !templates.iter().any(|x| x.name == t.name) {
                templates.push(t);
            }
            for s in t.secrets() {
                if let Some(s) = spec.secrets.get(s) {
                    if !secrets.iter().any(|x| x.name == s.name) {
                        secrets.push(s);
                    }
                }
            }
        } else {
            let list = |it: Vec<&str>| {
                if it.is_empty() {
                    "none".to_string()
                } else {
                    it.join(", ")
                }
            };
            return Err(format!(
                "no secret or template named {n:?} in the spec (secrets: {}; templates: {})",
                list(spec.secrets.keys().map(String::as_str).collect()),
                list(spec.templates.keys().map(String::as_str).collect()),
            ));
        }
    }
    Ok((secrets, templates))
}

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
pub fn render_current(spec: &Spec, t: &TemplateSpec) -> Result<Written, TemplateError> {
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

/// What happened to one template in a `fetch`.
#[derive(Debug)]
pub enum TemplateOutcome {
    Rendered {
        written: Written,
        /// Its secrets that were served from the cache (Vault unreachable).
        from_cache: Vec<String>,
    },
    Failed(TemplateError),
}

/// After `fetch` rendered the secrets: renders every template whose secrets all
/// succeeded (fresh or from the cache); a template with a failed secret keeps
/// its previous version.
pub async fn after_fetch(
    spec: &Spec,
    templates: &[&TemplateSpec],
    report: &Report,
) -> Vec<(String, TemplateOutcome)> {
    let mut out = Vec::new();
    for t in templates {
        let mut from_cache = Vec::new();
        let mut failed = None;
        for s in t.secrets() {
            match report.outcomes.iter().find(|(n, _)| n == s).map(|(_, o)| o) {
                Some(Outcome::Failed(_)) => {
                    failed = Some(s.to_string());
                    break;
                }
                Some(Outcome::FromCache { .. }) => from_cache.push(s.to_string()),
                _ => {}
            }
        }
        let outcome = match failed {
            Some(secret) => TemplateOutcome::Failed(TemplateError::SecretFailed {
                template: t.name.clone(),
                secret,
                path: t.path.clone(),
            }),
            None => {
                let (spec, t2) = (spec.clone(), (*t).clone());
                let job = tokio::task::spawn_blocking(move || render_current(&spec, &t2));
                match job
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
                {
                    Ok(written) => TemplateOutcome::Rendered {
                        written,
                        from_cache,
                    },
                    Err(e) => TemplateOutcome::Failed(e),
                }
            }
        };
        out.push((t.name.clone(), outcome));
    }
    out
}

/// Logs each template's outcome; the exit code of the first failure, else 0.
pub fn report(outcomes: &[(String, TemplateOutcome)], spec: &Spec) -> u8 {
    let mut code = crate::exit::OK;
    for (name, o) in outcomes {
        let path = spec
            .templates
            .get(name)
            .map(|t| t.path.display().to_string())
            .unwrap_or_default();
        match o {
            TemplateOutcome::Rendered {
                written,
                from_cache,
            } => {
                let how = if from_cache.is_empty() {
                    String::new()
                } else {
                    format!(
                        " from the last-known-good cache of {} (Vault unreachable)",
                        from_cache.join(", ")
                    )
                };
                match written {
                    Written::Changed => tracing::info!("template {name}: rendered {path}{how}"),
                    Written::Unchanged => {
                        tracing::info!("template {name}: unchanged, {path} left as it is{how}")
                    }
                }
            }
            TemplateOutcome::Failed(e) => {
                tracing::error!("{}", crate::report::message(e));
                if code == crate::exit::OK {
                    code = e.exit_code();
                }
            }
        }
    }
    code
}

/// `vaultkeeper render --template NAME --dry-run`: the placeholders it would
/// fill, one per line, names only. An envFrom template lists the keys of its
/// secrets' current data when it is readable.
pub fn dry_run_lines(spec: &Spec, t: &TemplateSpec) -> Vec<String> {
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
