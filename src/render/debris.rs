//! What a render that died (kill -9, power loss, full disk) leaves behind, and
//! its removal at the start of the next render of the same secret, under the
//! secret's lock:
//!
//! - `.<leaf>.vaultkeeper.link-<pid>-<hex>` beside outputDir: the fresh symlink
//!   not yet renamed over outputDir (removed), or, after a `RENAME_EXCHANGE`,
//!   the directory that was at outputDir (set aside, see [`set_aside`]);
//! - unpublished and surplus generations (removed by the render itself);
//! - `<cacheDir>/.data.json.{staged,tmp}-<pid>-<hex>` (see [`crate::cache`]);
//! - `<stateDir>/status/.<name>.json.tmp-<pid>-<hex>` (see [`crate::state`]).
//!
//! Temporary names carry the writer's pid, so debris of a live process
//! (status records are written outside the lock) is left alone.
//!
//! A directory vaultkeeper did not write is never deleted: when it is at
//! outputDir it is renamed to `.<leaf>.vaultkeeper.aside-<time>-<hex>`, made
//! 0700 and named in a WARN (only an empty one is removed).

use crate::fs::{self, fs_err, FsError};
use nix::fcntl::{renameat, AtFlags};
use nix::sys::stat::{fchmod, fstatat, Mode};
use nix::unistd::{unlinkat, UnlinkatFlags};
use std::os::fd::AsFd;
use std::path::Path;

pub(crate) use crate::fs::temp::{is_dead, pid_of, temp_tail};

pub(crate) fn link_temp_name(leaf: &str) -> String {
    format!(".{leaf}.vaultkeeper.link-{}", temp_tail())
}

const S_IFMT: u32 = 0o170000;

/// Removes the link temporaries of `leaf` in `parent` (the caller holds the
/// secret's lock, so none is in use); a directory under such a name is what
/// was at outputDir when a render died mid-swap: it is set aside.
pub(crate) fn clean_link_temps(
    parent: &impl AsFd,
    parent_label: &Path,
    leaf: &str,
    output_dir: &Path,
) -> Result<(), FsError> {
    let prefix = format!(".{leaf}.vaultkeeper.link-");
    for n in fs::list_dir(parent, parent_label)? {
        if !n.starts_with(&prefix) {
            continue;
        }
        let Ok(st) = fstatat(parent, n.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        match st.st_mode & S_IFMT {
            0o120000 => unlinkat(parent, n.as_str(), UnlinkatFlags::NoRemoveDir)
                .map_err(|e| fs_err("cannot remove", parent_label.join(&n).display(), e))?,
            0o040000 => set_aside(parent, parent_label, &n, leaf, true, output_dir),
            _ => {}
        }
    }
    Ok(())
}

/// Keeps what was at outputDir (now under `name` in `parent`): an empty
/// directory is removed, anything else renamed aside (0700 when a directory)
/// and named in a WARN. Failures are logged; the next render tries again.
pub(crate) fn set_aside(
    parent: &impl AsFd,
    parent_label: &Path,
    name: &str,
    leaf: &str,
    is_dir: bool,
    output_dir: &Path,
) {
    let parent = parent.as_fd();
    if is_dir && unlinkat(parent, name, UnlinkatFlags::RemoveDir).is_ok() {
        tracing::info!(path = %output_dir.display(), "replaced an empty directory at outputDir by a managed generation");
        return;
    }
    let stamp = crate::clock::rfc3339(std::time::SystemTime::now()).replace([':', '-'], "");
    let aside = format!(
        ".{leaf}.vaultkeeper.aside-{stamp}-{:08x}",
        rand::random::<u32>()
    );
    if let Err(e) = renameat(parent, name, parent, aside.as_str()) {
        tracing::warn!(path = %parent_label.join(name).display(), error = %e, "cannot set aside what was at outputDir; the next render tries again");
        return;
    }
    let aside_path = parent_label.join(&aside);
    if is_dir {
        match fs::open_subdir(parent, &aside, &aside_path) {
            Ok(fd) => {
                if let Err(e) = fchmod(&fd, Mode::from_bits_truncate(0o700)) {
                    tracing::warn!(path = %aside_path.display(), error = %e, "cannot chmod 0700 the directory set aside");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open the directory set aside"),
        }
    }
    let _ = fs::fsync_dir(parent, parent_label);
    tracing::warn!(
        "outputDir {} held a {} that vaultkeeper did not write; it was NOT deleted: it is kept at {}{}; look at it, then delete it yourself",
        output_dir.display(),
        if is_dir { "directory" } else { "symlink" },
        aside_path.display(),
        if is_dir { " (mode 0700)" } else { "" }
    );
}

/// Removes, in `dir`, the temporaries named `<prefix><pid>-<hex>` whose writer
/// is dead, or all of them when `locked` (the caller holds the lock that every
/// writer of these files takes). Returns how many were removed.
pub(crate) fn remove_temporaries(
    dir: &impl AsFd,
    label: &Path,
    prefixes: &[String],
    locked: bool,
) -> usize {
    let Ok(names) = fs::list_dir(dir, label) else {
        return 0;
    };
    let mut removed = 0;
    for n in names {
        let Some(tail) = prefixes.iter().find_map(|p| n.strip_prefix(p.as_str())) else {
            continue;
        };
        let debris = locked || pid_of(tail).is_none_or(is_dead);
        let regular = fstatat(dir, n.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.st_mode & S_IFMT == 0o100000);
        if debris && regular && unlinkat(dir, n.as_str(), UnlinkatFlags::NoRemoveDir).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests;
