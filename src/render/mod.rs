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
pub mod debris;
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
    #[error("secret {secret}: secrets.{secret}.outputDir {path}: {reason}")]
    Unsafe {
        secret: String,
        path: PathBuf,
        reason: String,
    },
    #[error("secret {secret}: no space left on the file system of {dir} for the new version ({bytes} bytes of files); nothing of it was kept and the previous version is still published; free space there (or make it larger) and fetch again ({source})")]
    NoSpace {
        secret: String,
        dir: PathBuf,
        bytes: usize,
        #[source]
        source: FsError,
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
///
/// The caller holds the secret's [`crate::lock::SecretLock`]: this function
/// first removes the debris of earlier renders that died (link temporaries,
/// unpublished and surplus generations), and assumes no other writer.
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

    debris::clean_link_temps(&parent, &p.parent, &p.leaf, &secret.output_dir).map_err(fs)?;
    let at_output = what_is_at(&parent, &p);
    let current = match &at_output {
        AtOutput::Ours(g) => Some(g.clone()),
        _ => None,
    };
    // Keep the published generation and the newest one before it; everything
    // else (unpublished generations of a render that died, older ones) goes.
    let existing = atomic::list_dir(&gens, &gens_label).map_err(fs)?;
    let previous = previous_of(&existing, current.as_deref());
    for old in existing.iter().filter(|n| is_generation_name(n)) {
        if Some(old) != current.as_ref() && Some(old) != previous.as_ref() {
            atomic::remove_tree_at(&gens, old, &gens_label).map_err(fs)?;
        }
    }
    if let Some(cur) = &current {
        if generation_matches(&gens, cur, &files, uid, gid, secret.mode, &gens_label) {
            return Ok(Rendered::Unchanged);
        }
    }
    if let AtOutput::File = at_output {
        return Err(RenderError::InTheWay {
            secret: name.clone(),
            path: secret.output_dir.clone(),
            what: "a file, not a directory",
        });
    }

    // Write the new generation completely, unpublished, under a name no other
    // generation has (numbers only grow; mkdir must create it).
    let mut next = existing
        .iter()
        .filter_map(|n| generation_number(n))
        .max()
        .map_or(1, |n| n + 1);
    let gen = loop {
        let gen = format!("g{next}");
        if atomic::mkdir_at(&gens, &gen, 0o700, &gens_label).map_err(fs)? {
            break gen;
        }
        next += 1;
    };
    let gen_label = gens_label.join(&gen);
    let written = write_generation(&gens, &gen, &gen_label, &files, uid, gid, secret.mode);
    let published =
        written.and_then(|()| publish(&parent, &p, &gen, &secret.output_dir, &at_output));
    if let Err(source) = published {
        // Never leave a partial generation: a full disk would stay full.
        let _ = atomic::remove_tree_at(&gens, &gen, &gens_label);
        let _ = atomic::fsync_dir(&gens, &gens_label);
        let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
        return Err(match source.source.raw_os_error() {
            Some(nix::libc::ENOSPC) | Some(nix::libc::EDQUOT) => RenderError::NoSpace {
                secret: name.clone(),
                dir: p.parent.clone(),
                bytes,
                source,
            },
            _ => fs(source),
        });
    }

    // Keep the generation just published and the one before it.
    for old in [previous].into_iter().flatten() {
        atomic::remove_tree_at(&gens, &old, &gens_label).map_err(fs)?;
    }
    if let Some(w) = crate::spec::mode::exec_warning(secret.mode) {
        tracing::warn!("secret {name}: {w}");
    }
    Ok(Rendered::Changed {
        generation: gen,
        files: files.len(),
    })
}

/// Writes every file of generation `gen` (owner and mode before any byte),
/// then the directory's owner and mode, and fsyncs.
fn write_generation(
    gens: &impl AsFd,
    gen: &str,
    gen_label: &Path,
    files: &[(String, Vec<u8>)],
    uid: Uid,
    gid: Gid,
    mode: u32,
) -> Result<(), FsError> {
    let gens_label = gen_label.parent().unwrap_or(gen_label);
    let gen_fd = atomic::open_subdir(gens, gen, gen_label)?;
    for (key, bytes) in files {
        atomic::create_file(&gen_fd, key, bytes, mode, Some((uid, gid)), gen_label)?;
    }
    fchown(&gen_fd, Some(uid), Some(gid))
        .map_err(|e| fs_err("cannot chown", gen_label.display(), e))?;
    fchmod(&gen_fd, Mode::from_bits_truncate(dir_mode_for(mode)))
        .map_err(|e| fs_err("cannot chmod", gen_label.display(), e))?;
    atomic::fsync_dir(&gen_fd, gen_label)?;
    atomic::fsync_dir(gens, gens_label)
}

/// What is at outputDir before a render.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AtOutput {
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

fn what_is_at(parent: &impl AsFd, p: &Paths) -> AtOutput {
    let st = nix::sys::stat::fstatat(
        parent,
        p.leaf.as_str(),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    );
    match st.map(|s| s.st_mode & atomic::libc_s_ifmt()) {
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
fn previous_of(existing: &[String], current: Option<&str>) -> Option<String> {
    let cur = generation_number(current?)?;
    existing
        .iter()
        .filter(|n| generation_number(n).is_some_and(|g| g < cur))
        .max_by_key(|n| generation_number(n))
        .cloned()
}

fn generation_number(n: &str) -> Option<u64> {
    is_generation_name(n).then(|| n[1..].parse().ok()).flatten()
}

fn publish(
    parent: &impl AsFd,
    p: &Paths,
    gen: &str,
    output_dir: &Path,
    at_output: &AtOutput,
) -> Result<(), FsError> {
    let parent = parent.as_fd();
    let link_tmp = debris::link_temp_name(&p.leaf);
    let target = format!("{}/{gen}", p.gens);
    symlinkat(target.as_str(), parent, link_tmp.as_str()).map_err(|e| {
        fs_err(
            "cannot create symlink",
            p.parent.join(&link_tmp).display(),
            e,
        )
    })?;
    let result = match at_output {
        // Something we did not write: swap it out atomically, then keep it aside.
        AtOutput::Foreign { dir } => renameat2(
            parent,
            link_tmp.as_str(),
            parent,
            p.leaf.as_str(),
            RenameFlags::RENAME_EXCHANGE,
        )
        .map_err(|e| fs_err("cannot switch", output_dir.display(), e))
        .map(|()| {
            // link_tmp now names what was at outputDir.
            debris::set_aside(&parent, &p.parent, &link_tmp, &p.leaf, *dir, output_dir);
        }),
        _ => renameat(parent, link_tmp.as_str(), parent, p.leaf.as_str())
            .map_err(|e| fs_err("cannot switch", output_dir.display(), e)),
    };
    if result.is_err() {
        let _ = unlinkat(parent, link_tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    }
    result?;
    atomic::fsync_dir(parent, &p.parent)
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
