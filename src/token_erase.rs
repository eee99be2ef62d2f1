//! After a successful unwrap, `vaultkeeper bootstrap` erases the wrapped token
//! from the files it may have come from (`--erase-token-from FILE`, and the
//! spec's `approle.wrappedTokenFile`): a spent token left in cloud-init's file
//! is one more copy of a credential for a reader to find, and tells whoever
//! reads it which token this host used.
//!
//! Only what is the token goes: a file whose whole content is the token is
//! truncated to empty; in an environment file only the lines `NAME=token`
//! (optionally `export`, quoted) go, every other line stays. The file is
//! rewritten in place (it may be a bind mount in the unit's sandbox, which a
//! rename cannot replace), through a descriptor opened without following a
//! symlink, only when it is a regular file of at most [`MAX_SIZE`] bytes. A
//! file that holds the token and cannot be rewritten is reported loudly (WARN,
//! with what to do); a file that does not hold it is left untouched.

use crate::secret::Secret;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Token and environment files are small; anything larger is not one.
pub(crate) const MAX_SIZE: u64 = 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Erased {
    /// The file does not exist (already removed, or the token came from elsewhere).
    Missing,
    /// The file does not hold the token: left untouched.
    NotThere,
    /// The token was removed; `lines_kept` other lines stay.
    Removed { lines_kept: usize },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum EraseError {
    #[error("cannot erase the spent wrapped token from {file}: {why}; remove it by hand (the token is used up, but it should not lie around)")]
    Cannot { file: PathBuf, why: String },
}

fn cannot(file: &Path, why: impl ToString) -> EraseError {
    EraseError::Cannot {
        file: file.to_path_buf(),
        why: why.to_string(),
    }
}

/// The content without the token: `None` when it does not hold it.
fn without_token(content: &str, token: &str) -> Option<(String, usize)> {
    if content.trim() == token {
        return Some((String::new(), 0));
    }
    let mut kept = Vec::new();
    let mut found = false;
    for line in content.split_inclusive('\n') {
        let l = line.trim();
        let assignment = l.strip_prefix("export ").unwrap_or(l);
        let value = assignment.split_once('=').map(|(_, v)| v.trim());
        let unquoted = value.map(|v| {
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v)
        });
        if unquoted == Some(token) {
            found = true;
        } else if l.contains(token) {
            // The token inside something else: not ours to rewrite, but it must go.
            found = true;
        } else {
            kept.push(line);
        }
    }
    found.then(|| (kept.concat(), kept.len()))
}

/// Erases `token` from `file` (see the module documentation).
pub(crate) fn erase(file: &Path, token: &Secret) -> Result<Erased, EraseError> {
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(file)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Erased::Missing),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            // A link (e.g. NixOS's /etc/environment into the store): read it to
            // tell whether the token is there at all; it cannot be rewritten.
            return match std::fs::read_to_string(file) {
                Ok(c) if without_token(&c, token.expose()).is_some() => Err(cannot(
                    file,
                    "it is a symbolic link, which is never written through",
                )),
                _ => Ok(Erased::NotThere),
            };
        }
        Err(e) => {
            // Unwritable (read-only file system, permissions): loud only if the
            // token is in it.
            return match std::fs::read_to_string(file) {
                Ok(c) if without_token(&c, token.expose()).is_none() => Ok(Erased::NotThere),
                _ => Err(cannot(file, format!("cannot open it for writing: {e}"))),
            };
        }
    };
    let meta = f.metadata().map_err(|e| cannot(file, e))?;
    if !meta.file_type().is_file() {
        return Err(cannot(file, "it is not a regular file"));
    }
    if meta.len() > MAX_SIZE {
        return Err(cannot(
            file,
            format!(
                "it is {} bytes, more than a token file can be ({MAX_SIZE})",
                meta.len()
            ),
        ));
    }
    let mut content = String::new();
    (&f).take(MAX_SIZE + 1)
        .read_to_string(&mut content)
        .map_err(|e| cannot(file, format!("cannot read it: {e}")))?;
    let Some((new, lines_kept)) = without_token(&content, token.expose()) else {
        zeroize::Zeroize::zeroize(&mut content);
        return Ok(Erased::NotThere);
    };
    zeroize::Zeroize::zeroize(&mut content);
    let write = (|| {
        f.seek(SeekFrom::Start(0))?;
        f.set_len(0)?;
        f.write_all(new.as_bytes())?;
        f.sync_all()
    })();
    write.map_err(|e| cannot(file, format!("cannot rewrite it: {e}")))?;
    Ok(Erased::Removed { lines_kept })
}

/// Erases the token from every file in `files` (duplicates once), logging each
/// outcome; returns how many files could not be cleaned.
pub(crate) fn erase_all(files: &[PathBuf], token: &Secret) -> usize {
    let mut seen: Vec<&PathBuf> = Vec::new();
    let mut failed = 0;
    for file in files {
        if seen.contains(&file) {
            continue;
        }
        seen.push(file);
        match erase(file, token) {
            Ok(Erased::Removed { lines_kept: 0 }) => {
                tracing::info!("erased the spent wrapped token from {}", file.display())
            }
            Ok(Erased::Removed { lines_kept }) => tracing::info!(
                "erased the spent wrapped token from {} ({lines_kept} other line(s) kept)",
                file.display()
            ),
            Ok(Erased::NotThere) => {
                tracing::debug!("{} does not hold the wrapped token", file.display())
            }
            Ok(Erased::Missing) => tracing::debug!("{} does not exist", file.display()),
            Err(e) => {
                failed += 1;
                tracing::warn!("{e}");
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests;
