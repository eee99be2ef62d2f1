//! Directories, opened relative to directory file descriptors with `O_NOFOLLOW`:
//! a symlink planted where a directory is expected is refused, never followed.

use super::error::{fs_err, FsError};
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fchmod, fstat, mkdirat, Mode};
use nix::unistd::{unlinkat, Uid, UnlinkatFlags};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

pub(crate) const DIR_FLAGS: OFlag = OFlag::O_DIRECTORY
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_RDONLY);

/// Opens a directory; fails with ELOOP/ENOTDIR when the last component is a symlink.
pub(crate) fn open_dir_nofollow(path: &Path) -> Result<OwnedFd, FsError> {
    openat(nix::fcntl::AT_FDCWD, path, DIR_FLAGS, Mode::empty()).map_err(|e| {
        fs_err(
            "cannot open directory (symlinks are refused)",
            path.display(),
            e,
        )
    })
}

pub(crate) fn open_subdir(dir: impl AsFd, name: &str, label: &Path) -> Result<OwnedFd, FsError> {
    openat(dir, name, DIR_FLAGS, Mode::empty()).map_err(|e| {
        fs_err(
            "cannot open directory (symlinks are refused)",
            label.display(),
            e,
        )
    })
}

/// Creates `path` (and missing parents, 0755) and makes its last
/// component a real directory owned by us with exactly `mode`. A symlink in its
/// place is refused.
pub(crate) fn ensure_private_dir(path: &Path, mode: u32) -> Result<OwnedFd, FsError> {
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

pub(crate) fn fsync_dir(dir: impl AsFd, label: &Path) -> Result<(), FsError> {
    nix::unistd::fsync(dir).map_err(|e| fs_err("cannot fsync directory", label.display(), e))
}

/// Removes a directory tree below `dir` without following any symlink in it.
pub(crate) fn remove_tree_at(dir: impl AsFd, name: &str, label: &Path) -> Result<(), FsError> {
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
pub(crate) fn list_dir(dir: impl AsFd, label: &Path) -> Result<Vec<String>, FsError> {
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
pub(crate) fn mkdir_at(
    dir: impl AsFd,
    name: &str,
    mode: u32,
    label: &Path,
) -> Result<bool, FsError> {
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
