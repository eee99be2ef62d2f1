//! [`TemplateError`]: why a template was not rendered (its previous version
//! is kept), and its exit code.

use super::render;
use crate::cache::CacheError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum TemplateError {
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
    pub(crate) fn exit_code(&self) -> u8 {
        crate::exit::RENDER
    }
}
