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

use crate::render::atomic::{fs_err, FsError};
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// At most this many symlinks on one walk (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_ISVTX: u32 = 0o1000;

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
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
    pub fn into_fs(self) -> FsError {
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
    pub fn is_not_found(&self) -> bool {
        matches!(self, WalkError::Fs(e) if e.source.raw_os_error() == Some(nix::libc::ENOENT))
    }
}

const DIR_FLAGS: OFlag = OFlag::O_DIRECTORY
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_RDONLY);

/// Opens directory `path`, creating missing components with exactly `create`'s
/// mode (owned by us) when it is `Some`.
pub fn open_dir(path: &Path, create: Option<u32>) -> Result<OwnedFd, WalkError> {
    let (fd, leaf) = walk(path, create, None)?;
    debug_assert!(leaf.is_none());
    Ok(fd)
}

/// Opens the directory holding file `path` and returns it with the file's name
/// in it; the caller opens the name with `O_NOFOLLOW`. With `follow_last`, a
/// symlink as the last component is followed when the rules allow it (the spec
/// file, which NixOS links from /etc into the Nix store); without, it is left
/// for the caller's `O_NOFOLLOW` to refuse (credentials).
pub fn open_parent_of_file(
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

/// The owner and mode of an open directory, for callers that check more.
pub fn stat(fd: impl AsFd, label: &Path) -> Result<FileStat, FsError> {
    fstat(fd).map_err(|e| fs_err("cannot stat", label.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, m: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }

    #[test]
    fn walk_creates_missing_directories_with_the_exact_mode() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a/b/c");
        open_dir(&p, Some(0o755)).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o755);
        assert!(open_dir(&t.path().join("missing"), None)
            .unwrap_err()
            .is_not_found());
    }

    #[test]
    fn parent_writable_by_others_without_sticky_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let open = t.path().join("open");
        std::fs::create_dir(&open).unwrap();
        chmod(&open, 0o777);
        let e = open_dir(&open.join("secrets"), Some(0o755))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[rule: parent-writable]") && e.contains("chmod go-w"),
            "{e}"
        );
        assert!(!open.join("secrets").exists(), "nothing created below it");
        chmod(&open, 0o775);
        let e = open_dir(&open, None).unwrap_err().to_string();
        assert!(e.contains("parent-writable"), "{e}");
        // With the sticky bit (like /tmp) it is fine.
        chmod(&open, 0o1777);
        open_dir(&open.join("secrets"), Some(0o755)).unwrap();
    }

    #[test]
    fn needs_root_symlinked_parent_only_when_root_owned_all_the_way() {
        let t = tempfile::tempdir().unwrap();
        // Like sops-nix: /run/secrets -> /run/secrets.d/1, all root-owned (tests run as root).
        let real = t.path().join("secrets.d/1");
        std::fs::create_dir_all(&real).unwrap();
        let link = t.path().join("secrets");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        if nix::unistd::Uid::effective().is_root() {
            let fd = open_dir(&link.join("app-parent"), Some(0o755)).unwrap();
            drop(fd);
            assert!(real.join("app-parent").is_dir());
            // A link owned by someone else is refused.
            nix::unistd::fchownat(
                nix::fcntl::AT_FDCWD,
                &link,
                Some(nix::unistd::Uid::from_raw(65534)),
                None,
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .unwrap();
            let e = open_dir(&link.join("x"), Some(0o755))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("[rule: symlinked-parent]") && e.contains("not root-owned"),
                "{e}"
            );
            // A root-owned link whose target directory belongs to someone else is refused.
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink(&real, &link).unwrap();
            nix::unistd::chown(&real, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
            let e = open_dir(&link.join("y"), Some(0o755))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("symlinked-parent") && e.contains("after it"),
                "{e}"
            );
        } else {
            panic!("this test needs root (the suite runs as root): it creates root-owned symlinks");
        }
    }

    #[test]
    fn needs_root_a_directory_before_the_symlink_owned_by_another_user_is_refused() {
        assert!(
            nix::unistd::Uid::effective().is_root(),
            "the suite runs as root"
        );
        let t = tempfile::tempdir().unwrap();
        let mid = t.path().join("mid");
        std::fs::create_dir(&mid).unwrap();
        std::fs::create_dir(t.path().join("real")).unwrap();
        std::os::unix::fs::symlink(t.path().join("real"), mid.join("link")).unwrap();
        nix::unistd::chown(&mid, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let e = open_dir(&mid.join("link/out"), Some(0o755))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a directory before it is not root-owned"), "{e}");
        // Without a symlink, a directory owned by another user on the way is allowed
        // (e.g. /var/lib/grafana/secrets).
        std::fs::create_dir(mid.join("plain")).unwrap();
        open_dir(&mid.join("plain"), None).unwrap();
    }

    #[test]
    fn file_walk_returns_the_parent_and_name() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), "x").unwrap();
        let (_fd, name) = open_parent_of_file(&t.path().join("f"), false).unwrap();
        assert_eq!(name, "f");
        let e = open_parent_of_file(t.path(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a directory"), "{e}");
    }
}
