//! The one error type of the file-system layer: what we were doing, where, and the OS error.

/// An I/O failure, with what we were doing and where.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct FsError {
    pub action: &'static str,
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

pub(crate) fn fs_err(
    action: &'static str,
    path: impl std::fmt::Display,
    e: impl Into<std::io::Error>,
) -> FsError {
    FsError {
        action,
        path: path.to_string(),
        source: e.into(),
    }
}
