//! File-system primitives that never follow symlinks and never show a partial file.
//!
//! Everything works relative to directory file descriptors opened with
//! `O_NOFOLLOW`, so a symlink planted in a directory we write to is replaced (by
//! `rename`) or refused (by `open`), never followed.

use nix::fcntl::{openat, renameat, OFlag};
use nix::sys::stat::{fchmod, fstat, mkdirat, Mode};
use nix::unistd::{fchown, unlinkat, Gid, Uid, UnlinkatFlags};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

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

const DIR_FLAGS: OFlag = OFlag::O_DIRECTORY
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_RDONLY);

/// Opens a directory; fails with ELOOP/ENOTDIR when the last component is a symlink.
pub fn open_dir_nofollow(path: &Path) -> Result<OwnedFd, FsError> {
    openat(nix::fcntl::AT_FDCWD, path, DIR_FLAGS, Mode::empty()).map_err(|e| {
        fs_err(
            "cannot open directory (symlinks are refused)",
            path.display(),
            e,
        )
    })
}

pub fn open_subdir(dir: impl AsFd, name: &str, label: &Path) -> Result<OwnedFd, FsError> {
    openat(dir, name, DIR_FLAGS, Mode::empty()).map_err(|e| {
        fs_err(
            "cannot open directory (symlinks are refused)",
            label.display(),
            e,
        )
    })
}

/// Creates the missing directories of `path` with exactly `mode` (not filtered
/// by the umask: units run with `UMask=0077`, and consumers must be able to
/// traverse e.g. `/run/secrets`). Existing directories are left as they are.
pub fn create_dirs(path: &Path, mode: u32) -> Result<(), FsError> {
    if path.as_os_str().is_empty() || path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        create_dirs(parent, mode)?;
    }
    match nix::unistd::mkdir(path, Mode::from_bits_truncate(mode)) {
        Ok(()) => nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            path,
            Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::NoFollowSymlink,
        )
        .map_err(|e| fs_err("cannot chmod", path.display(), e)),
        Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(fs_err("cannot create directory", path.display(), e)),
    }
}

/// Creates `path` (and missing parents, 0755) and makes its last
/// component a real directory owned by us with exactly `mode`. A symlink in its
/// place is refused.
pub fn ensure_private_dir(path: &Path, mode: u32) -> Result<OwnedFd, FsError> {
    // The directories on the way are opened by the path walk (none writable by
    // others without the sticky bit, symlinks only when root-owned all the way).
    let (parent, name) = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => (
            crate::paths::walk::open_dir(parent, Some(0o755)).map_err(|e| e.into_fs())?,
            name.to_string_lossy().into_owned(),
        ),
        _ => {
            return Err(fs_err(
                "cannot use as a directory",
                path.display(),
                nix::errno::Errno::EINVAL,
            ))
        }
    };
    match mkdirat(&parent, name.as_str(), Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
        Err(e) => return Err(fs_err("cannot create directory", path.display(), e)),
    }
    let fd = open_subdir(&parent, &name, path)?;
    let st = fstat(&fd).map_err(|e| fs_err("cannot stat", path.display(), e))?;
    if st.st_uid != Uid::effective().as_raw() {
        return Err(fs_err(
            "refusing to use a directory owned by another user",
            path.display(),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
    }
    if st.st_mode & 0o7777 != mode {
        fchmod(&fd, Mode::from_bits_truncate(mode))
            .map_err(|e| fs_err("cannot chmod", path.display(), e))?;
    }
    Ok(fd)
}

/// Whether a write must survive a crash (fsync) or may be lost with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file and its directory: secrets, caches, credentials.
    Durable,
    /// Atomic but not fsynced: status records that the next run rewrites anyway.
    Volatile,
}

/// Creates a new file `name` in `dir` (which must not exist yet), owned by
/// `uid:gid` with `mode` before any byte is written, and fsyncs it.
pub fn create_file(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    owner: Option<(Uid, Gid)>,
    label: &Path,
) -> Result<(), FsError> {
    create_file_with(dir, name, bytes, mode, owner, label, Durability::Durable)
}

fn create_file_with(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    owner: Option<(Uid, Gid)>,
    label: &Path,
    durability: Durability,
) -> Result<(), FsError> {
    let flags =
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let dir = dir.as_fd();
    let fd = openat(dir, name, flags, Mode::from_bits_truncate(0o600))
        .map_err(|e| fs_err("cannot create", label.join(name).display(), e))?;
    let result = fill_file(fd, name, bytes, mode, owner, label, durability);
    if result.is_err() {
        // Never leave part of a secret behind (a full disk fails the write half-way).
        let _ = unlinkat(dir, name, UnlinkatFlags::NoRemoveDir);
    }
    result
}

fn fill_file(
    fd: OwnedFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    owner: Option<(Uid, Gid)>,
    label: &Path,
    durability: Durability,
) -> Result<(), FsError> {
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
pub fn write_new_file_volatile(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    label: &Path,
) -> Result<(), FsError> {
    create_file_with(dir, name, bytes, mode, None, label, Durability::Volatile)
}

/// Atomically replaces `name` in `dir`: a temporary file in the same directory,
/// fsynced, renamed over the old one (a symlink there is replaced, not followed),
/// then the directory fsynced.
pub fn replace_file(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    label: &Path,
) -> Result<(), FsError> {
    replace_file_with(dir, name, bytes, mode, label, Durability::Durable)
}

/// [`replace_file`], choosing whether to fsync.
pub fn replace_file_with(
    dir: impl AsFd,
    name: &str,
    bytes: &[u8],
    mode: u32,
    label: &Path,
    durability: Durability,
) -> Result<(), FsError> {
    let dir = dir.as_fd();
    let tmp = format!(".{name}.tmp-{}", super::debris::temp_tail());
    if let Err(e) = create_file_with(dir, &tmp, bytes, mode, None, label, durability) {
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

pub fn fsync_dir(dir: impl AsFd, label: &Path) -> Result<(), FsError> {
    nix::unistd::fsync(dir).map_err(|e| fs_err("cannot fsync directory", label.display(), e))
}

/// Reads a whole regular file in `dir`, refusing symlinks. `Ok(None)` if absent.
pub fn read_file_at(dir: impl AsFd, name: &str, label: &Path) -> Result<Option<Vec<u8>>, FsError> {
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
    let mut buf = Vec::with_capacity(st.st_size.max(0) as usize);
    std::io::Read::read_to_end(&mut File::from(fd), &mut buf)
        .map_err(|e| fs_err("cannot read", label.join(name).display(), e))?;
    Ok(Some(buf))
}

pub(crate) const fn libc_s_ifmt() -> u32 {
    0o170000
}

/// Removes a directory tree below `dir` without following any symlink in it.
pub fn remove_tree_at(dir: impl AsFd, name: &str, label: &Path) -> Result<(), FsError> {
    let dir = dir.as_fd();
    let sub = match open_subdir(dir, name, label) {
        Ok(fd) => fd,
        Err(e) if e.source.raw_os_error() == Some(nix::libc::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    let entries: Vec<(String, bool)> = {
        let d = nix::dir::Dir::from_fd(
            sub.try_clone()
                .map_err(|e| fs_err("cannot dup", label.display(), e))?,
        )
        .map_err(|e| fs_err("cannot list", label.join(name).display(), e))?;
        let mut v = Vec::new();
        for ent in d.into_iter().flatten() {
            let n = ent.file_name().to_string_lossy().into_owned();
            if n == "." || n == ".." {
                continue;
            }
            let is_dir = matches!(ent.file_type(), Some(nix::dir::Type::Directory));
            v.push((n, is_dir));
        }
        v
    };
    // Our generation directories are read-only (0550); unlinking in them needs
    // write access, which only root's CAP_DAC_OVERRIDE would skip: ask first.
    let _ = fchmod(&sub, Mode::from_bits_truncate(0o700));
    for (n, is_dir) in entries {
        if is_dir {
            remove_tree_at(&sub, &n, &label.join(name))?;
        } else {
            unlinkat(&sub, n.as_str(), UnlinkatFlags::NoRemoveDir)
                .map_err(|e| fs_err("cannot remove", label.join(name).join(&n).display(), e))?;
        }
    }
    drop(sub);
    unlinkat(dir, name, UnlinkatFlags::RemoveDir)
        .map_err(|e| fs_err("cannot remove directory", label.join(name).display(), e))
}

/// The names in a directory (without `.` and `..`).
pub fn list_dir(dir: impl AsFd, label: &Path) -> Result<Vec<String>, FsError> {
    // A new open file description (not a dup, which would share the read
    // position): the directory can be listed again later.
    let fd = openat(dir, ".", DIR_FLAGS, Mode::empty())
        .map_err(|e| fs_err("cannot open directory", label.display(), e))?;
    let d = nix::dir::Dir::from_fd(fd).map_err(|e| fs_err("cannot list", label.display(), e))?;
    Ok(d.into_iter()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .collect())
}

/// Creates directory `name` in `dir` with exactly `mode` (whatever the umask);
/// `Ok(false)` when it already exists (its mode is left alone).
pub fn mkdir_at(dir: impl AsFd, name: &str, mode: u32, label: &Path) -> Result<bool, FsError> {
    let dir = dir.as_fd();
    match mkdirat(dir, name, Mode::from_bits_truncate(mode)) {
        Ok(()) => {
            let fd = open_subdir(dir, name, label)?;
            fchmod(&fd, Mode::from_bits_truncate(mode))
                .map_err(|e| fs_err("cannot chmod", label.join(name).display(), e))?;
            Ok(true)
        }
        Err(nix::errno::Errno::EEXIST) => Ok(false),
        Err(e) => Err(fs_err(
            "cannot create directory",
            label.join(name).display(),
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn replace_file_replaces_a_planted_symlink_instead_of_following_it() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "original").unwrap();
        let d = t.path().join("d");
        let fd = ensure_private_dir(&d, 0o700).unwrap();
        std::os::unix::fs::symlink(&victim, d.join("data.json")).unwrap();
        replace_file(&fd, "data.json", b"new", 0o600, &d).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");
        let meta = std::fs::symlink_metadata(d.join("data.json")).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        assert_eq!(std::fs::read(d.join("data.json")).unwrap(), b"new");
        assert_eq!(list_dir(&fd, &d).unwrap(), vec!["data.json".to_string()]);
    }

    #[test]
    fn private_dirs_refuse_symlinks_and_fix_modes() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
        let fd = ensure_private_dir(&real, 0o700).unwrap();
        drop(fd);
        assert_eq!(std::fs::metadata(&real).unwrap().mode() & 0o7777, 0o700);
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = ensure_private_dir(&link, 0o700).unwrap_err();
        assert!(e.to_string().contains("symlinks are refused"), "{e}");
    }

    #[test]
    fn reading_refuses_symlinks() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), "x").unwrap();
        std::os::unix::fs::symlink(t.path().join("f"), t.path().join("l")).unwrap();
        let fd = open_dir_nofollow(t.path()).unwrap();
        assert_eq!(read_file_at(&fd, "f", t.path()).unwrap().unwrap(), b"x");
        assert!(read_file_at(&fd, "l", t.path()).is_err());
        assert!(read_file_at(&fd, "missing", t.path()).unwrap().is_none());
    }
}
