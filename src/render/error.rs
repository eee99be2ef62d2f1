//! [`RenderError`]: why a secret's files were not written, with what to do.

use crate::fs::FsError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("secret {secret}: {message}; nothing of it was written (rename the key in Vault)")]
    InvalidKey { secret: String, message: String },
    #[error("secret {secret}: {message}")]
    Account { secret: String, message: String },
    #[error("secret {secret}: outputDir {path} is {what}; remove it or point outputDir elsewhere")]
    InTheWay {
        secret: String,
        path: PathBuf,
        what: &'static str,
    },
    /// A directory on the way to outputDir breaks a rule of [`crate::paths::walk`].
    #[error("secret {secret}: secrets.{secret}.outputDir {path}: {reason}")]
    Unsafe {
        secret: String,
        path: PathBuf,
        reason: String,
    },
    #[error("secret {secret}: no space left on the file system of {dir} for the new version ({bytes} bytes of files); nothing of it was kept and the previous version is still published; free space there (or make it larger) and fetch again ({source})")]
    NoSpace {
        secret: String,
        dir: PathBuf,
        bytes: usize,
        #[source]
        source: FsError,
    },
    #[error("secret {secret}: {source}")]
    Fs {
        secret: String,
        #[source]
        source: FsError,
    },
}
