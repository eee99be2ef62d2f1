//! Files: created with owner and mode before the first byte, replaced atomically
//! (a temporary in the same directory, fsync, rename, fsync of the directory),
//! read without following symlinks.

use super::dir::fsync_dir;
use super::error::{fs_err, FsError};
use super::temp::temp_tail;
use nix::fcntl::{openat, renameat, OFlag};
use nix::sys::stat::{fchmod, fstat, Mode};
use nix::unistd::{fchown, unlinkat, Gid, Uid, UnlinkatFlags};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// Whether a write must survive a crash (fsync) or may be lost with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// fsync the file and its directory: secrets, caches, credentials.
    Durable,
    /// Atomic but not fsynced: status records that the next run rewrites anyway.
    Volatile,
}

/// Creates a new file `name` in `dir` (which must not exist yet), owned by
/// `uid:gid` with `mode` before any byte is written, and fsyncs it.
pub(crate) fn create_file(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    owner: Option<(Uid, Gid)>,
    label: &Path,
) -> Result<(), FsError> {
    let new = NewFile::new(name, bytes, mode, label, Durability::Durable);
    create_file_with(dir, NewFile { owner, ..new })
}

/// A file to create: its name in the directory, content, mode, owner, and
/// whether it must survive a crash.
struct NewFile<'a> {
    name: &'a str,
    bytes: &'a [u8],
    mode: u32,
    owner: Option<(Uid, Gid)>,
    /// The directory's path, for messages.
    label: &'a Path,
    durability: Durability,
}

impl<'a> NewFile<'a> {
    fn new(
        name: &'a str,
        bytes: &'a [u8],
        mode: u32,
        label: &'a Path,
        durability: Durability,
    ) -> Self {
        NewFile {
            name,
            bytes,
            mode,
            owner: None,
            label,
            durability,
        }
    }
}

fn create_file_with(dir: impl AsFd, new: NewFile<'_>) -> Result<(), FsError> {
    let flags =
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let dir = dir.as_fd();
    let fd = openat(dir, new.name, flags, Mode::from_bits_truncate(0o600))
        .map_err(|e| fs_err("cannot create", new.label.join(new.name).display(), e))?;
    let result = fill_file(fd, &new);
    if result.is_err() {
        // Never leave part of a secret behind (a full disk fails the write half-way).
        let _ = unlinkat(dir, new.name, UnlinkatFlags::NoRemoveDir);
    }
    result
}

fn fill_file(fd: OwnedFd, new: &NewFile<'_>) -> Result<(), FsError> {
    let NewFile {
        name,
        bytes,
        mode,
        owner,
        label,
        durability,
    } = *new;
    if let Some((uid, gid)) = owner {
        fchown(&fd, Some(uid), Some(gid))
            .map_err(|e| fs_err("cannot chown", label.join(name).display(), e))?;
    }
    fchmod(&fd, Mode::from_bits_truncate(mode))
        .map_err(|e| fs_err("cannot chmod", label.join(name).display(), e))?;
    let mut f = File::from(fd);
    f.write_all(bytes)
        .and_then(|_| match durability {
            Durability::Durable => f.sync_all(),
            Durability::Volatile => Ok(()),
        })
        .map_err(|e| fs_err("cannot write", label.join(name).display(), e))
}

/// Creates a new file (0600 until `mode` is set, no fsync); the caller makes it
/// durable and visible later.
pub(crate) fn write_new_file_volatile(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    label: &Path,
) -> Result<(), FsError> {
    create_file_with(
        dir,
        NewFile::new(name, bytes, 0o600, label, Durability::Volatile),
    )
}

/// Atomically replaces `name` in `dir`: a temporary file in the same directory,
/// fsynced, renamed over the old one (a symlink there is replaced, not followed),
/// then the directory fsynced.
pub(crate) fn replace_file(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    label: &Path,
) -> Result<(), FsError> {
    replace_file_with(dir, name, bytes, mode, label, Durability::Durable)
}

/// [`replace_file`], choosing whether to fsync.
pub(crate) fn replace_file_with(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    label: &Path,
    durability: Durability,
) -> Result<(), FsError> {
    let dir = dir.as_fd();
    let tmp = format!(".{name}.tmp-{}", temp_tail());
    if let Err(e) = create_file_with(dir, NewFile::new(&tmp, bytes, mode, label, durability)) {
        let _ = unlinkat(dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        return Err(e);
    }
    if let Err(e) = renameat(dir, tmp.as_str(), dir, name) {
        let _ = unlinkat(dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        return Err(fs_err(
            "cannot rename into place",
            label.join(name).display(),
            e,
        ));
    }
    match durability {
        Durability::Durable => fsync_dir(dir, label),
        Durability::Volatile => Ok(()),
    }
}

/// Reads a whole regular file in `dir`, refusing symlinks. `Ok(None)` if absent.
pub(crate) fn read_file_at(
    dir: impl AsFd,
    name: &str,
    label: &Path,
) -> Result<Option<Vec<u8>>, FsError> {
    read_file_at_most(dir, name, label, u64::MAX)
}

/// [`read_file_at`], refusing a file larger than `max` bytes (checked before
/// reading, and again while reading in case it grows).
pub(crate) fn read_file_at_most(
    dir: impl AsFd,
    name: &str,
    label: &Path,
    max: u64,
) -> Result<Option<Vec<u8>>, FsError> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) => return Ok(None),
        Err(e) => {
            return Err(fs_err(
                "cannot open (symlinks are refused)",
                label.join(name).display(),
                e,
            ))
        }
    };
    let st = fstat(&fd).map_err(|e| fs_err("cannot stat", label.join(name).display(), e))?;
    if st.st_mode & libc_s_ifmt() != 0o100000 {
        return Err(fs_err(
            "not a regular file",
            label.join(name).display(),
            std::io::Error::from(std::io::ErrorKind::InvalidData),
        ));
    }
    let too_big = || {
        fs_err(
            "refusing to read an oversized file",
            label.join(name).display(),
            std::io::Error::from(std::io::ErrorKind::FileTooLarge),
        )
    };
    if st.st_size.max(0) as u64 > max {
        return Err(too_big());
    }
    let mut buf = Vec::with_capacity(st.st_size.max(0) as usize);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(File::from(fd), max.saturating_add(1)),
        &mut buf,
    )
    .map_err(|e| fs_err("cannot read", label.join(name).display(), e))?;
    if buf.len() as u64 > max {
        return Err(too_big());
    }
    Ok(Some(buf))
}

pub(crate) const fn libc_s_ifmt() -> u32 {
    0o170000
}
