//! Reading local input files — the AppRole role-id and secret-id, the wrapped
//! token file, the spec — through one bounded helper, [`read`]:
//!
//! - the directories on the way are opened by [`crate::paths::walk`] (no
//!   group/world-writable directory without the sticky bit; a symlink only
//!   when root-owned all the way);
//! - the file is opened with `O_NOFOLLOW` (credentials: a symlink is refused;
//!   the spec may be a root-owned link into the Nix store) and `O_NONBLOCK`, so
//!   a FIFO cannot make us wait;
//! - `fstat` of what was opened: a regular file (no FIFO, device, socket or
//!   directory), owned by the running user (the spec: or root), credentials not
//!   readable or writable by group or others, the spec not writable by them;
//! - at most [`Input::cap`] bytes are read, whatever the file claims.
//!
//! Every refusal names the file, what is wrong and the fix.

use crate::paths::walk::{self, WalkError};
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What a file is, which decides its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// role-id, secret-id: private to us, at most 4 KiB, never through a symlink.
    Credential,
    /// The response-wrapped token for bootstrap: as a credential, at most 16 KiB.
    WrappedToken,
    /// `<stateDir>/vault-address`, the Vault address pinned at the first boot
    /// ([`crate::pin`]): as a credential (ours, 0600, no symlink), at most 4 KiB.
    PinnedAddress,
    /// The spec: owned by us or root, not writable by others, at most 16 MiB;
    /// a root-owned symlink (NixOS's /etc → Nix store) is followed.
    Spec,
}

impl Input {
    /// The most bytes read.
    pub(crate) fn cap(self) -> u64 {
        match self {
            Input::Credential | Input::PinnedAddress => 4 * 1024,
            Input::WrappedToken => 16 * 1024,
            Input::Spec => 16 * 1024 * 1024,
        }
    }

    fn private(self) -> bool {
        self != Input::Spec
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error("{path} does not exist")]
    NotFound { path: PathBuf },
    #[error("{path} is refused: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// What is wrong and what to do, without the path (for messages that name it already).
    pub(crate) fn reason(&self) -> String {
        match self {
            InputError::NotFound { .. } => "it does not exist".into(),
            InputError::Refused { reason, .. } => reason.clone(),
            InputError::Io { source, .. } => source.to_string(),
        }
    }

    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, InputError::NotFound { .. })
    }
}

fn kind_name(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o010000 => "a FIFO (named pipe)",
        0o020000 => "a character device",
        0o060000 => "a block device",
        0o140000 => "a socket",
        0o040000 => "a directory",
        0o120000 => "a symlink",
        _ => "not a regular file",
    }
}

/// Reads `path` under the rules of `kind`; the bytes are wiped when dropped.
pub(crate) fn read(path: &Path, kind: Input) -> Result<Zeroizing<Vec<u8>>, InputError> {
    let refused = |reason: String| InputError::Refused {
        path: path.to_path_buf(),
        reason,
    };
    let (dir, name) =
        walk::open_parent_of_file(path, kind == Input::Spec).map_err(|e| match e {
            e if e.is_not_found() => InputError::NotFound {
                path: path.to_path_buf(),
            },
            WalkError::Unsafe { .. } => refused(format!("a directory on the way is unsafe: {e}")),
            WalkError::Fs(f) => InputError::Io {
                path: path.to_path_buf(),
                source: f.source,
            },
        })?;
    let flags = OFlag::O_RDONLY
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_CLOEXEC
        | OFlag::O_NOCTTY;
    let fd = match openat(&dir, name.as_os_str(), flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => {
            return Err(InputError::NotFound {
                path: path.to_path_buf(),
            })
        }
        Err(Errno::ELOOP) => {
            return Err(refused(
                "it is a symlink, and vaultkeeper does not follow symlinks to credentials; put the file itself there".into(),
            ))
        }
        Err(Errno::ENXIO) => {
            return Err(refused(
                "it is a socket, not a regular file; put a regular file there".into(),
            ))
        }
        Err(e) => {
            return Err(InputError::Io {
                path: path.to_path_buf(),
                source: e.into(),
            })
        }
    };
    let st = fstat(&fd).map_err(|e| InputError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    if st.st_mode & 0o170000 != 0o100000 {
        return Err(refused(format!(
            "it is {}, not a regular file; put a regular file there",
            kind_name(st.st_mode)
        )));
    }
    let me = nix::unistd::Uid::effective().as_raw();
    let owner_ok = st.st_uid == me || (kind == Input::Spec && st.st_uid == 0);
    if !owner_ok {
        return Err(refused(format!(
            "it is owned by uid {}, not by the user vaultkeeper runs as (uid {me}); if the file is right, run `chown {me} {}`",
            st.st_uid,
            path.display()
        )));
    }
    let mode = st.st_mode & 0o7777;
    if kind.private() && mode & 0o077 != 0 {
        return Err(refused(format!(
            "its group or others may read or write it (mode {mode:04o}); run `chmod 600 {}`",
            path.display()
        )));
    }
    if !kind.private() && mode & 0o022 != 0 {
        return Err(refused(format!(
            "its group or others may write it (mode {mode:04o}); run `chmod go-w {}`",
            path.display()
        )));
    }
    let cap = kind.cap();
    let too_big = |n: u64| {
        refused(format!(
            "it holds {n} bytes or more, more than the {cap} bytes such a file may hold; check that it is the right file"
        ))
    };
    if st.st_size as u64 > cap {
        return Err(too_big(st.st_size as u64));
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(st.st_size.max(0) as usize));
    File::from(fd)
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > cap {
        return Err(too_big(buf.len() as u64));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests;
