//! Rendering a secret as one file per key, switched atomically as a whole.
//!
//! Layout for `outputDir = /run/secrets/grafana`:
//!
//! ```text
//! /run/secrets/grafana -> .grafana.vaultkeeper/g7      (symlink, replaced by rename)
//! /run/secrets/.grafana.vaultkeeper/       root 0711
//! /run/secrets/.grafana.vaultkeeper/g7/    owner:group, r-x for the classes the mode allows
//! /run/secrets/.grafana.vaultkeeper/g7/password   owner:group, mode
//! ```
//!
//! A new generation is written completely (owner and mode set before any byte,
//! each file fsynced, then the directory) before one `rename` of a fresh symlink
//! over `outputDir` publishes it. A reader that resolves `outputDir` once (opens
//! the directory, then reads the files relative to it) sees one generation, never
//! a mix. The previous generation is kept so such readers can finish; older ones
//! are removed. Keys deleted in Vault are simply absent from the new generation.

pub mod atomic;
pub mod keys;
pub mod owner;

use crate::paths::walk::WalkError;
use crate::spec::{mode::dir_mode_for, SecretSpec};
use crate::vault::kv::SecretData;
use atomic::{fs_err, FsError};
use nix::fcntl::{readlinkat, renameat, renameat2, RenameFlags};
use nix::sys::stat::{fchmod, fstat, Mode};
use nix::unistd::{fchown, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("secret {secret}: {message}; nothing of it was written (rename the key in Vault)")]
    InvalidKey { secret: String, message: String },
    #[error("secret {secret}: {message}")]
    Account { secret: String, message: String },
    #[error("secret {secret}: outputDir {path} is {what}; remove it or point outputDir elsewhere")]
    InTheWay {
        secret: String,
        path: PathBuf,
        what: &'static str,
    },
    /// A directory on the way to outputDir breaks a rule of [`crate::paths::walk`].
    #[error("secret {secret}: outputDir {path}: {reason}")]
    Unsafe {
        secret: String,
        path: PathBuf,
        reason: String,
    },
    #[error("secret {secret}: {source}")]
    Fs {
        secret: String,
        #[source]
        source: FsError,
    },
}

/// What a render did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// A new generation was published.
    Changed { generation: String, files: usize },
    /// The current generation already holds exactly this data, owner and mode.
    Unchanged,
}

/// Where a secret's generations live, derived from its outputDir.
struct Paths {
    parent: PathBuf,
    leaf: String,
    gens: String,
}

fn paths(output_dir: &Path) -> Paths {
    let parent = output_dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    let leaf = output_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let gens = format!(".{leaf}.vaultkeeper");
    Paths { parent, leaf, gens }
}

/// Writes `data` as the new generation of `secret`'s outputDir, unless the
/// current generation is already identical.
pub fn render(secret: &SecretSpec, data: &SecretData) -> Result<Rendered, RenderError> {
    let name = &secret.name;
    let files = keys::files_for(data).map_err(|message| RenderError::InvalidKey {
        secret: name.clone(),
        message,
    })?;
    let account = |message| RenderError::Account {
        secret: name.clone(),
        message,
    };
    let uid = owner::resolve_user(&secret.owner).map_err(account)?;
    let gid = owner::resolve_group(&secret.group).map_err(account)?;
    let fs = |source| RenderError::Fs {
        secret: name.clone(),
        source,
    };

    let p = paths(&secret.output_dir);
    let parent = crate::paths::walk::open_dir(&p.parent, Some(0o755)).map_err(|e| match e {
        WalkError::Unsafe { .. } => RenderError::Unsafe {
            secret: name.clone(),
            path: secret.output_dir.clone(),
            reason: e.to_string(),
        },
        WalkError::Fs(source) => fs(source),
    })?;
    atomic::mkdir_at(&parent, &p.gens, 0o711, &p.parent).map_err(fs)?;
    let gens_label = p.parent.join(&p.gens);
    let gens = atomic::open_subdir(&parent, &p.gens, &gens_label).map_err(fs)?;
    check_ours(&gens, &gens_label).map_err(fs)?;

    // What does outputDir point at now?
    let current = match readlinkat(&parent, p.leaf.as_str()) {
        Ok(target) => target
            .to_str()
            .and_then(|t| t.strip_prefix(&format!("{}/", p.gens)))
            .filter(|g| is_generation_name(g))
            .map(str::to_string),
        Err(_) => None,
    };
    if let Some(cur) = &current {
        if generation_matches(&gens, cur, &files, uid, gid, secret.mode, &gens_label) {
            return Ok(Rendered::Unchanged);
        }
    }

    // Write the new generation completely, unpublished.
    let existing = atomic::list_dir(&gens, &gens_label).map_err(fs)?;
    let next = existing
        .iter()
        .filter_map(|n| n.strip_prefix('g').and_then(|d| d.parse::<u64>().ok()))
        .max()
        .map_or(1, |n| n + 1);
    let gen = format!("g{next}");
    let gen_label = gens_label.join(&gen);
    atomic::mkdir_at(&gens, &gen, 0o700, &gens_label).map_err(fs)?;
    let gen_fd = atomic::open_subdir(&gens, &gen, &gen_label).map_err(fs)?;
    for (key, bytes) in &files {
        atomic::create_file(
            &gen_fd,
            key,
            bytes,
            secret.mode,
            Some((uid, gid)),
            &gen_label,
        )
        .map_err(fs)?;
    }
    fchown(&gen_fd, Some(uid), Some(gid))
        .map_err(|e| fs(fs_err("cannot chown", gen_label.display(), e)))?;
    fchmod(&gen_fd, Mode::from_bits_truncate(dir_mode_for(secret.mode)))
        .map_err(|e| fs(fs_err("cannot chmod", gen_label.display(), e)))?;
    atomic::fsync_dir(&gen_fd, &gen_label).map_err(fs)?;
    atomic::fsync_dir(&gens, &gens_label).map_err(fs)?;

    // Publish: a fresh symlink renamed over outputDir.
    publish(&parent, &p, &gen, &secret.output_dir).map_err(|e| match e {
        Publish::Fs(source) => fs(source),
        Publish::InTheWay(what) => RenderError::InTheWay {
            secret: name.clone(),
            path: secret.output_dir.clone(),
            what,
        },
    })?;

    // Keep the generation just published and the one before it.
    for old in existing.iter().filter(|n| is_generation_name(n)) {
        if Some(old) != current.as_ref() && old != &gen {
            atomic::remove_tree_at(&gens, old, &gens_label).map_err(fs)?;
        }
    }
    Ok(Rendered::Changed {
        generation: gen,
        files: files.len(),
    })
}

enum Publish {
    Fs(FsError),
    InTheWay(&'static str),
}

fn publish(parent: &impl AsFd, p: &Paths, gen: &str, output_dir: &Path) -> Result<(), Publish> {
    let parent = parent.as_fd();
    let link_tmp = format!(".{}.vaultkeeper.link-{:08x}", p.leaf, rand::random::<u32>());
    let target = format!("{}/{gen}", p.gens);
    symlinkat(target.as_str(), parent, link_tmp.as_str()).map_err(|e| {
        Publish::Fs(fs_err(
            "cannot create symlink",
            p.parent.join(&link_tmp).display(),
            e,
        ))
    })?;
    let st = nix::sys::stat::fstatat(
        parent,
        p.leaf.as_str(),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    );
    let kind = st.map(|s| s.st_mode & atomic::libc_s_ifmt()).ok();
    let result = match kind {
        // A real directory (an older tool's layout, or planted): swap it out atomically.
        Some(0o040000) => renameat2(parent, link_tmp.as_str(), parent, p.leaf.as_str(), RenameFlags::RENAME_EXCHANGE)
            .map_err(|e| Publish::Fs(fs_err("cannot switch", output_dir.display(), e)))
            .and_then(|()| {
                // link_tmp now names the old directory.
                tracing::warn!(path = %output_dir.display(), "replaced a plain directory at outputDir by a managed generation");
                atomic::remove_tree_at(parent, &link_tmp, &p.parent).map_err(Publish::Fs)
            }),
        None | Some(0o120000) => renameat(parent, link_tmp.as_str(), parent, p.leaf.as_str())
            .map_err(|e| Publish::Fs(fs_err("cannot switch", output_dir.display(), e))),
        Some(_) => Err(Publish::InTheWay("a file, not a directory")),
    };
    if result.is_err() {
        let _ = unlinkat(parent, link_tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    }
    result?;
    atomic::fsync_dir(parent, &p.parent).map_err(Publish::Fs)
}

fn is_generation_name(n: &str) -> bool {
    n.len() > 1 && n.starts_with('g') && n[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The generations directory must be a real directory that only we can write.
fn check_ours(fd: &impl AsFd, label: &Path) -> Result<(), FsError> {
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

/// True when generation `gen` holds exactly `files`, each with this owner and mode.
fn generation_matches(
    gens: &impl AsFd,
    gen: &str,
    files: &[(String, Vec<u8>)],
    uid: Uid,
    gid: Gid,
    mode: u32,
    label: &Path,
) -> bool {
    let Ok(dir) = atomic::open_subdir(gens, gen, label) else {
        return false;
    };
    let Ok(names) = atomic::list_dir(&dir, label) else {
        return false;
    };
    if names.len() != files.len() {
        return false;
    }
    let dir_ok = fstat(&dir).is_ok_and(|st| {
        st.st_uid == uid.as_raw()
            && st.st_gid == gid.as_raw()
            && st.st_mode & 0o7777 == dir_mode_for(mode)
    });
    dir_ok
        && files.iter().all(|(key, bytes)| {
            let same_meta = nix::sys::stat::fstatat(
                &dir,
                key.as_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .is_ok_and(|st| {
                st.st_mode & atomic::libc_s_ifmt() == 0o100000
                    && st.st_uid == uid.as_raw()
                    && st.st_gid == gid.as_raw()
                    && st.st_mode & 0o7777 == mode
            });
            same_meta
                && matches!(atomic::read_file_at(&dir, key, label), Ok(Some(b)) if &b == bytes)
        })
}

#[cfg(test)]
mod tests;
