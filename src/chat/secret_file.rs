//! The signing secret's file: read with the project's bounded reader for
//! credentials ([`crate::input::read`]: safe directories on the way, the last
//! component not a symlink, a regular file owned by us, no access for group or
//! others, at most 4 KiB), kept in memory as a [`Secret`], and read again when
//! the file changes (another inode, size, mtime or ctime): vaultkeeper itself
//! may render it, and a rotation swaps the file.
//!
//! When the file cannot be read, every request is refused (fail closed): an
//! old secret is not kept after its file went away.

use crate::secret::Secret;
use nix::sys::stat::{lstat, FileStat};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SecretFileError {
    #[error("cannot read the Slack signing secret file {path}: {reason} (write the app's signing secret there, one line, mode 0400)")]
    Unreadable { path: String, reason: String },
}

/// What identifies one version of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl From<&FileStat> for Identity {
    fn from(s: &FileStat) -> Self {
        Identity {
            dev: s.st_dev,
            ino: s.st_ino,
            size: s.st_size,
            mtime: (s.st_mtime, s.st_mtime_nsec),
            ctime: (s.st_ctime, s.st_ctime_nsec),
        }
    }
}

pub(crate) struct SigningSecret {
    path: PathBuf,
    cached: Mutex<Option<(Identity, Secret)>>,
}

impl SigningSecret {
    pub(crate) fn new(path: &Path) -> SigningSecret {
        SigningSecret {
            path: path.to_path_buf(),
            cached: Mutex::new(None),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The current secret: from memory while the file is unchanged, else read anew.
    pub(crate) fn current(&self) -> Result<Secret, SecretFileError> {
        let err = |reason: String| SecretFileError::Unreadable {
            path: self.path.display().to_string(),
            reason,
        };
        let st = lstat(&self.path).map_err(|e| err(e.desc().to_string()))?;
        let id = Identity::from(&st);
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, s)) = cached.as_ref() {
            if *seen == id {
                return Ok(s.clone());
            }
        }
        *cached = None;
        let (id, secret) = read_bounded(&self.path, id).map_err(err)?;
        *cached = Some((id, secret.clone()));
        Ok(secret)
    }
}

/// Reads the file with the project's one bounded reader for local inputs
/// ([`crate::input::read`] as a credential: the directories on the way are
/// checked, the last component is not a symlink, a regular file owned by us,
/// no access for group or others, at most 4 KiB), then checks it holds one
/// signing secret. `id` is what `lstat` saw before the read.
fn read_bounded(path: &Path, id: Identity) -> Result<(Identity, Secret), String> {
    let bytes =
        crate::input::read(path, crate::input::Input::Credential).map_err(|e| e.reason())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "it is not text".to_string())?;
    let secret = Secret::new(text.trim());
    let v = secret.expose();
    if v.is_empty() {
        return Err("it is empty".into());
    }
    if v.len() < 8 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "it does not hold one signing secret (at least 8 visible characters, no spaces)".into(),
        );
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests;
