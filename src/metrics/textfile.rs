//! `metrics.textfile`: the metrics as a `.prom` file for node-exporter's
//! textfile collector, replaced atomically: a hidden temporary file in the same
//! directory (the collector reads only `*.prom`), `rename(2)` over the old one.
//! A reader sees the previous file or the new one, never half of one.
//!
//! The directory must exist (the NixOS module creates it) and is opened without
//! following a symlink. Whatever sits at the path and is not a regular file (a
//! symlink, a directory, a FIFO) was not made by vaultkeeper: it is left alone
//! and the write fails with a message saying so.

use crate::fs::{self, Durability, FsError};
use nix::sys::stat::{fstatat, SFlag};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub(crate) enum TextfileError {
    #[error("metrics.textfile {path}: the directory cannot be used: {source} (create it, e.g. with the NixOS module's default, or change metrics.textfile)")]
    Dir {
        path: String,
        #[source]
        source: FsError,
    },
    #[error("metrics.textfile {path}: something that is not a regular file is there ({kind}); vaultkeeper does not replace what it did not create: remove it or change metrics.textfile")]
    NotRegular { path: String, kind: &'static str },
    #[error("metrics.textfile {path}: cannot write: {source}")]
    Write {
        path: String,
        #[source]
        source: FsError,
    },
}

/// Replaces `path` with `text` (mode 0644: metrics hold no secret).
pub(crate) fn write(path: &Path, text: &str) -> Result<(), TextfileError> {
    let shown = path.display().to_string();
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(TextfileError::NotRegular {
            path: shown,
            kind: "no file name",
        });
    };
    let fd = fs::open_dir_nofollow(dir).map_err(|source| TextfileError::Dir {
        path: shown.clone(),
        source,
    })?;
    match fstatat(&fd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => {
            let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            let what = match kind {
                SFlag::S_IFREG => None,
                SFlag::S_IFLNK => Some("a symlink"),
                SFlag::S_IFDIR => Some("a directory"),
                SFlag::S_IFIFO => Some("a FIFO"),
                SFlag::S_IFSOCK => Some("a socket"),
                _ => Some("a device"),
            };
            if let Some(kind) = what {
                return Err(TextfileError::NotRegular { path: shown, kind });
            }
        }
        Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => {
            return Err(TextfileError::Write {
                path: shown.clone(),
                source: fs::fs_err("cannot inspect", &shown, e),
            })
        }
    }
    fs::replace_file_with(&fd, name, text.as_bytes(), 0o644, dir, Durability::Volatile).map_err(
        |source| TextfileError::Write {
            path: shown,
            source,
        },
    )
}

#[cfg(test)]
mod tests;
