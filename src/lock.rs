//! One writer per secret: an exclusive `flock(2)` on
//! `<stateDir>/locks/<name>.lock`, held around a secret's render, cache commit
//! and status record by `fetch`, the daemon and the templates alike. A second
//! writer waits (up to a bound, then a clear error); it never races.
//!
//! Lock files live in stateDir (root, 0700), never in an outputDir, and are
//! never deleted (deleting a lock file others may hold open breaks the lock).
//! The lock is released when the [`SecretLock`] is dropped or the process dies
//! (kill -9 included: the kernel releases `flock`s with the file description).
//!
//! Rules for callers, so two writers can never wait on each other forever: a
//! holder of one secret's lock takes no other lock, except through
//! [`SecretLock::acquire_all`], which takes them in name order.

use crate::fs::{self as vfs, FsError};
use nix::fcntl::{openat, Flock, FlockArg, OFlag};
use nix::sys::stat::{fstat, Mode};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long `fetch` and the daemon wait for a secret held by another writer.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a waiting writer tries again.
const POLL: Duration = Duration::from_millis(10);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("secret {secret}: another vaultkeeper process (fetch, the daemon or a template render) has been writing it for {waited:?}; gave up waiting on {path}. If none is running (`systemctl status 'vault-secret-*' vaultkeeper`), check that nothing else holds the file open")]
    Timeout {
        secret: String,
        path: PathBuf,
        waited: Duration,
    },
    #[error("secret {secret}: cannot take its lock: {source}")]
    Fs {
        secret: String,
        #[source]
        source: FsError,
    },
}

/// A held per-secret lock; released on drop.
#[derive(Debug)]
pub struct SecretLock {
    secret: String,
    _lock: Flock<File>,
}

impl SecretLock {
    /// Takes `name`'s lock in `state_dir`, waiting up to `timeout`.
    pub fn acquire_in(
        state_dir: &Path,
        name: &str,
        timeout: Duration,
    ) -> Result<SecretLock, LockError> {
        let fs = |source| LockError::Fs {
            secret: name.to_string(),
            source,
        };
        crate::spec::check_secret_name(name).map_err(|m| {
            fs(vfs::fs_err(
                "cannot lock",
                name,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, m),
            ))
        })?;
        let dir_path = state_dir.join("locks");
        vfs::ensure_private_dir(state_dir, 0o700).map_err(fs)?;
        let dir = vfs::ensure_private_dir(&dir_path, 0o700).map_err(fs)?;
        let file_name = format!("{name}.lock");
        let path = dir_path.join(&file_name);
        let fd = openat(
            &dir,
            file_name.as_str(),
            OFlag::O_CREAT
                | OFlag::O_RDWR
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC
                | OFlag::O_NONBLOCK,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| fs(vfs::fs_err("cannot open lock file", path.display(), e)))?;
        let st = fstat(&fd).map_err(|e| fs(vfs::fs_err("cannot stat", path.display(), e)))?;
        if st.st_mode & 0o170000 != 0o100000 || st.st_uid != nix::unistd::Uid::effective().as_raw()
        {
            return Err(fs(vfs::fs_err(
                "refusing a lock file that is not a regular file of ours",
                path.display(),
                std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            )));
        }
        let started = Instant::now();
        let mut file = File::from(fd);
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => {
                    return Ok(SecretLock {
                        secret: name.to_string(),
                        _lock: lock,
                    })
                }
                Err((f, nix::errno::Errno::EWOULDBLOCK)) | Err((f, nix::errno::Errno::EINTR)) => {
                    if started.elapsed() >= timeout {
                        return Err(LockError::Timeout {
                            secret: name.to_string(),
                            path,
                            waited: started.elapsed(),
                        });
                    }
                    file = f;
                    std::thread::sleep(POLL.min(timeout.saturating_sub(started.elapsed())));
                }
                Err((_, e)) => {
                    return Err(fs(vfs::fs_err("cannot flock", path.display(), e)));
                }
            }
        }
    }

    /// Takes the locks of all `names` in name order (the only way to hold more
    /// than one), each waiting up to `timeout`.
    pub fn acquire_all<'a>(
        state_dir: &Path,
        names: impl IntoIterator<Item = &'a str>,
        timeout: Duration,
    ) -> Result<Vec<SecretLock>, LockError> {
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| Self::acquire_in(state_dir, n, timeout))
            .collect()
    }

    /// The secret this lock is for.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

#[cfg(test)]
mod tests;
