//! The names around an outputDir (`.<leaf>.vaultkeeper/g<N>`), what is at
//! the outputDir now ([`AtOutput`]), and which generations are ours.

use crate::fs::{fs_err, FsError};
use nix::fcntl::readlinkat;
use nix::sys::stat::fstat;
use nix::unistd::Uid;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// Where a secret's generations live, derived from its outputDir.
pub(super) struct Paths {
    pub(super) parent: PathBuf,
    pub(super) leaf: String,
    pub(super) gens: String,
}

pub(super) fn paths(output_dir: &Path) -> Paths {
    let parent = output_dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    let leaf = output_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let gens = format!(".{leaf}.vaultkeeper");
    Paths { parent, leaf, gens }
}

/// What is at outputDir before a render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AtOutput {
    Nothing,
    /// Our symlink, to this generation.
    Ours(String),
    /// A directory or symlink vaultkeeper did not make: moved aside, never deleted.
    Foreign {
        dir: bool,
    },
    /// A file (or other non-directory): refused.
    File,
}

pub(super) fn what_is_at(parent: &impl AsFd, p: &Paths) -> AtOutput {
    let st = nix::sys::stat::fstatat(
        parent,
        p.leaf.as_str(),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    );
    match st.map(|s| s.st_mode & crate::fs::libc_s_ifmt()) {
        Err(_) => AtOutput::Nothing,
        Ok(0o040000) => AtOutput::Foreign { dir: true },
        Ok(0o120000) => {
            let ours = readlinkat(parent, p.leaf.as_str()).ok().and_then(|t| {
                t.to_str()
                    .and_then(|t| t.strip_prefix(&format!("{}/", p.gens)))
                    .filter(|g| is_generation_name(g))
                    .map(str::to_string)
            });
            match ours {
                Some(g) => AtOutput::Ours(g),
                None => AtOutput::Foreign { dir: false },
            }
        }
        Ok(_) => AtOutput::File,
    }
}

/// The newest generation older than `current` (kept for readers in flight).
pub(super) fn previous_of(existing: &[String], current: Option<&str>) -> Option<String> {
    let cur = generation_number(current?)?;
    existing
        .iter()
        .filter(|n| generation_number(n).is_some_and(|g| g < cur))
        .max_by_key(|n| generation_number(n))
        .cloned()
}

pub(super) fn generation_number(n: &str) -> Option<u64> {
    is_generation_name(n).then(|| n[1..].parse().ok()).flatten()
}

pub(super) fn is_generation_name(n: &str) -> bool {
    n.len() > 1 && n.starts_with('g') && n[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The generations directory must be a real directory that only we can write.
pub(super) fn check_ours(fd: &impl AsFd, label: &Path) -> Result<(), FsError> {
    let st = fstat(fd).map_err(|e| fs_err("cannot stat", label.display(), e))?;
    if st.st_uid != Uid::effective().as_raw() || st.st_mode & 0o022 != 0 {
        return Err(fs_err(
            "refusing a generations directory that others own or can write",
            label.display(),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
    }
    Ok(())
}
