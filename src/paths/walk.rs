//! Opening the directories on the way to an outputDir, a cacheDir or a
//! credential file, one component at a time from `/`, never trusting a path
//! twice: each step is `openat(parent_fd, name, O_NOFOLLOW)` and the checks run
//! on what was opened (`fstat`), so a directory swapped after the walk is not
//! the one written to.
//!
//! The rules (each refusal names its rule, see the security model):
//! - `parent-writable`: a directory on the way that is group- or world-writable
//!   without the sticky bit is refused (anyone in that group could swap our
//!   symlink or generation directory).
//! - `symlinked-parent`: a symlink on the way is followed only when the link and
//!   every directory before and after it are root-owned (and, by the first rule,
//!   not writable by others): what sops-nix makes of `/run/secrets`. Any other
//!   symlink is refused.

use crate::fs::{fs_err, FsError};
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// At most this many symlinks on one walk (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_ISVTX: u32 = 0o1000;

#[derive(Debug, thiserror::Error)]
pub(crate) enum WalkError {
    /// A directory on the way breaks a rule; `fix` says what to do.
    #[error("{path}: {reason}; {fix} [rule: {rule}]")]
    Unsafe {
        path: PathBuf,
        rule: &'static str,
        reason: String,
        fix: String,
    },
    #[error(transparent)]
    Fs(#[from] FsError),
}

impl WalkError {
    /// The same failure as an [`FsError`] (for callers whose error type is that).
    pub(crate) fn into_fs(self) -> FsError {
        match self {
            WalkError::Fs(e) => e,
            WalkError::Unsafe {
                path,
                rule,
                reason,
                fix,
            } => FsError {
                action: "refusing",
                path: path.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{reason}; {fix} [rule: {rule}]"),
                ),
            },
        }
    }

    /// True when the walk stopped at a missing component.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, WalkError::Fs(e) if e.source.raw_os_error() == Some(nix::libc::ENOENT))
    }
}

const DIR_FLAGS: OFlag = OFlag::O_DIRECTORY
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_RDONLY);

/// Opens directory `path`, creating missing components with exactly `create`'s
/// mode (owned by us) when it is `Some`.
pub(crate) fn open_dir(path: &Path, create: Option<u32>) -> Result<OwnedFd, WalkError> {
    let (fd, leaf) = walk(path, create, None)?;
    debug_assert!(leaf.is_none());
    Ok(fd)
}

/// Opens the directory holding file `path` and returns it with the file's name
/// in it; the caller opens the name with `O_NOFOLLOW`. With `follow_last`, a
/// symlink as the last component is followed when the rules allow it (the spec
/// file, which NixOS links from /etc into the Nix store); without, it is left
/// for the caller's `O_NOFOLLOW` to refuse (credentials).
pub(crate) fn open_parent_of_file(
    path: &Path,
    follow_last: bool,
) -> Result<(OwnedFd, OsString), WalkError> {
    let (fd, leaf) = walk(path, None, Some(follow_last))?;
    Ok((fd, leaf.expect("a file walk ends at a name")))
}

fn is_dir(st: &FileStat) -> bool {
    st.st_mode & S_IFMT == S_IFDIR
}

fn others_can_write(st: &FileStat) -> bool {
    st.st_mode & 0o022 != 0 && st.st_mode & S_ISVTX == 0
}

fn components(p: &Path) -> VecDeque<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

struct State {
    /// The directories entered, `/` first (for `..`).
    stack: Vec<OwnedFd>,
    /// Where we are, as a path for messages.
    at: PathBuf,
    /// Every directory entered so far is root-owned.
    root_all_the_way: bool,
    /// A symlink was followed: from now on every directory must be root-owned.
    followed: Option<PathBuf>,
    links: usize,
}

impl State {
    fn top(&self) -> &OwnedFd {
        self.stack.last().expect("the root is never popped")
    }

    /// Checks a directory just opened and enters it.
    fn enter(&mut self, fd: OwnedFd, st: &FileStat, shown: PathBuf) -> Result<(), WalkError> {
        if others_can_write(st) {
            return Err(WalkError::Unsafe {
                reason: format!(
                    "is writable by its group or by everyone (mode {:04o}) without the sticky bit, so another user could replace what vaultkeeper puts there",
                    st.st_mode & 0o7777
                ),
                fix: format!("run `chmod go-w {}` (or choose another directory)", shown.display()),
                path: shown,
                rule: "parent-writable",
            });
        }
        if let Some(link) = &self.followed {
            if st.st_uid != 0 {
                return Err(symlink_refused(
                    &shown,
                    link,
                    "a directory after it is not root-owned",
                ));
            }
        }
        self.root_all_the_way &= st.st_uid == 0;
        self.stack.push(fd);
        self.at = shown;
        Ok(())
    }
}

fn symlink_refused(at: &Path, link: &Path, why: &str) -> WalkError {
    WalkError::Unsafe {
        path: at.to_path_buf(),
        rule: "symlinked-parent",
        reason: format!(
            "is reached through the symlink {} and {why}; vaultkeeper follows a symlink on the way only when the link and every directory on the way are root-owned and not writable by others (as sops-nix's /run/secrets)",
            link.display()
        ),
        fix: format!(
            "make {} a real directory, or make the link and the directories on the way root-owned",
            link.display()
        ),
    }
}

fn walk(
    path: &Path,
    create: Option<u32>,
    file: Option<bool>,
) -> Result<(OwnedFd, Option<OsString>), WalkError> {
    let want_file = file.is_some();
    let follow_last = file == Some(true);
    if !path.is_absolute() {
        return Err(WalkError::Fs(fs_err(
            "cannot open (not an absolute path)",
            path.display(),
            Errno::EINVAL,
        )));
    }
    let root = openat(nix::fcntl::AT_FDCWD, "/", DIR_FLAGS, Mode::empty())
        .map_err(|e| fs_err("cannot open directory", "/", e))?;
    let root_st = fstat(&root).map_err(|e| fs_err("cannot stat", "/", e))?;
    let mut s = State {
        stack: Vec::new(),
        at: PathBuf::from("/"),
        root_all_the_way: true,
        followed: None,
        links: 0,
    };
    s.enter(root, &root_st, PathBuf::from("/"))?;
    let mut queue = components(path);
    while let Some(name) = queue.pop_front() {
        if name == "." {
            continue;
        }
        if name == ".." {
            if s.stack.len() > 1 {
                s.stack.pop();
                s.at.pop();
            }
            continue;
        }
        let last = queue.is_empty();
        let shown = s.at.join(&name);
        let st = match fstatat(s.top(), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) if want_file && last => {
                let fd = s.stack.pop().expect("root");
                return Ok((fd, Some(name)));
            }
            Err(Errno::ENOENT) if create.is_some() => {
                let mode = create.unwrap_or(0o755);
                match mkdirat(s.top(), name.as_os_str(), Mode::from_bits_truncate(mode)) {
                    Ok(()) => {
                        let fd = openat(s.top(), name.as_os_str(), DIR_FLAGS, Mode::empty())
                            .map_err(|e| fs_err("cannot open directory", shown.display(), e))?;
                        // Exactly `mode`, whatever the umask (units run with UMask=0077).
                        fchmod(&fd, Mode::from_bits_truncate(mode))
                            .map_err(|e| fs_err("cannot chmod", shown.display(), e))?;
                    }
                    Err(Errno::EEXIST) => {}
                    Err(e) => {
                        return Err(fs_err("cannot create directory", shown.display(), e).into())
                    }
                }
                queue.push_front(name);
                continue;
            }
            Err(e) => return Err(fs_err("cannot open", shown.display(), e).into()),
        };
        match st.st_mode & S_IFMT {
            S_IFLNK if want_file && last && !follow_last => {
                let fd = s.stack.pop().expect("root");
                return Ok((fd, Some(name)));
            }
            S_IFLNK => {
                if !s.root_all_the_way || st.st_uid != 0 {
                    let why = if st.st_uid != 0 {
                        "the link is not root-owned"
                    } else {
                        "a directory before it is not root-owned"
                    };
                    return Err(symlink_refused(&shown, &shown, why));
                }
                s.links += 1;
                if s.links > MAX_LINKS {
                    return Err(fs_err(
                        "too many symlinks on the way to",
                        path.display(),
                        Errno::ELOOP,
                    )
                    .into());
                }
                let target = readlinkat(s.top(), name.as_os_str())
                    .map_err(|e| fs_err("cannot read symlink", shown.display(), e))?;
                let target = PathBuf::from(target);
                if target.as_os_str().as_bytes().starts_with(b"/") {
                    s.stack.truncate(1);
                    s.at = PathBuf::from("/");
                }
                for c in components(&target).into_iter().rev() {
                    queue.push_front(c);
                }
                s.followed = Some(shown);
            }
            S_IFDIR => {
                let fd =
                    openat(s.top(), name.as_os_str(), DIR_FLAGS, Mode::empty()).map_err(|e| {
                        fs_err(
                            "cannot open directory (symlinks are refused)",
                            shown.display(),
                            e,
                        )
                    })?;
                let st = fstat(&fd).map_err(|e| fs_err("cannot stat", shown.display(), e))?;
                if !is_dir(&st) {
                    return Err(fs_err("not a directory", shown.display(), Errno::ENOTDIR).into());
                }
                if want_file && last {
                    return Err(fs_err(
                        "is a directory, not a file",
                        shown.display(),
                        Errno::EISDIR,
                    )
                    .into());
                }
                s.enter(fd, &st, shown)?;
            }
            _ if want_file && last => {
                let fd = s.stack.pop().expect("root");
                return Ok((fd, Some(name)));
            }
            _ => {
                return Err(fs_err("not a directory", shown.display(), Errno::ENOTDIR).into());
            }
        }
    }
    if want_file {
        return Err(fs_err("is a directory, not a file", path.display(), Errno::EISDIR).into());
    }
    let fd = s.stack.pop().expect("root");
    Ok((fd, None))
}

#[cfg(test)]
mod tests;
