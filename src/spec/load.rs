//! From a file (or text) to a [`Spec`]: read with the bounded reader, parse
//! rejecting unknown keys, resolve and validate every value, then (for every
//! command but `check`) the pinned address and the environment overrides.

use super::error::{self, SpecError};
use super::model::Spec;
use super::raw::RawSpec;
use super::resolve::resolve;
use crate::pin;
use std::path::Path;

impl Spec {
    /// Reads and validates a spec file (no environment overrides).
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let bytes = crate::input::read(path, crate::input::Input::Spec).map_err(|e| {
            let kind = if e.is_not_found() {
                std::io::ErrorKind::NotFound
            } else {
                std::io::ErrorKind::InvalidData
            };
            SpecError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::new(kind, e.reason()),
            }
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SpecError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        })?;
        Spec::from_json(&path.display().to_string(), text)
    }

    /// Parses and validates spec text; `file` only labels the errors.
    pub fn from_json(file: &str, text: &str) -> Result<Spec, SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let raw: RawSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = match e.path().to_string() {
                p if p == "." => "(top level)".to_string(),
                p => p,
            };
            SpecError::Invalid {
                file: file.to_string(),
                path,
                message: clean_serde_message(&e.inner().to_string()),
            }
        })?;
        let mut problems = Vec::new();
        let spec = resolve(raw, &mut problems);
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(error::from_problems(file, problems))
        }
    }

    /// Applies the Vault CLI's environment variables where the spec leaves a
    /// value unset; never the address, never TLS verification (see [`env`]).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), SpecError> {
        super::env::apply(self, env)
    }
}

/// serde says "unknown field `x`, expected one of ..."; keep it, it is already clear.
fn clean_serde_message(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Loads the spec, its pinned Vault address when it has none of its own
/// ([`crate::pin`]: exit 2 when nothing is pinned), and applies
/// `VAULT_*`/`BAO_*` overrides.
pub(crate) fn load_spec(path: &Path) -> Result<Spec, SpecError> {
    load_spec_from(path, pin::Source::PinnedOnly)
}

/// [`load_spec`]; `bootstrap` passes [`pin::Source::MayPin`].
pub(crate) fn load_spec_from(path: &Path, source: pin::Source) -> Result<Spec, SpecError> {
    let mut spec = Spec::load(path)?;
    pin::resolve(&mut spec, path, |k| std::env::var(k).ok(), source)?;
    spec.apply_env(|k| std::env::var(k).ok())?;
    Ok(spec)
}

/// The spec at `path`, or, on an operator's machine without one (`status`,
/// `posture`, `provision`...), a spec made from `VAULT_ADDR`/`BAO_ADDR` and the
/// other `VAULT_*`/`BAO_*` variables. Neither: [`SpecError::NoAddress`].
pub(crate) fn load_spec_or_env(path: &Path) -> Result<Spec, SpecError> {
    if path.exists() {
        return load_spec(path);
    }
    let env = |k: &str| std::env::var(k).ok();
    if env("VAULT_ADDR").is_none() && env("BAO_ADDR").is_none() {
        return Err(SpecError::NoAddress {
            path: path.to_path_buf(),
        });
    }
    Spec::from_env(env).map_err(|e| SpecError::FromEnv {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}
