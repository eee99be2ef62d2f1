//! Building a template's bytes from its secrets' data, and writing them as one
//! file, atomically and without following symlinks:
//!
//! 1. the parent directory is opened with `O_NOFOLLOW` (created 0751 when missing);
//! 2. what is at the path now is looked at without following it: the same
//!    bytes, owner, group and mode → nothing is written (no mtime churn, no
//!    restart); a directory, FIFO, socket or device → refused; a file or
//!    symlink that vaultkeeper did not put there → refused (never overwrite what
//!    vaultkeeper did not create);
//! 3. the template's claim on the path is recorded in `<stateDir>/templates/`
//!    before the first write, so a crash after the rename still leaves the file
//!    ours;
//! 4. a temporary file in the same directory is created `O_EXCL|O_NOFOLLOW`,
//!    owner and mode set before the first byte, written, fsynced, renamed over
//!    the path (a symlink there is replaced, not followed), then the directory
//!    is fsynced. A failed write (ENOSPC...) removes the temporary file and
//!    leaves the previous version in place.

use super::env;
use crate::fs::{self, fs_err, FsError};
use crate::render::keys::value_bytes;
use crate::render::owner;
use crate::spec::template::parse;
use crate::spec::template::{Source, TemplateSpec};
use crate::vault::kv::SecretData;
use nix::fcntl::{renameat, AtFlags};
use nix::sys::stat::fstatat;
use nix::unistd::{unlinkat, Uid, UnlinkatFlags};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("{message}")]
    Account { message: String },
    #[error("{path} is {what} that vaultkeeper did not write; move it away or set another path for the template")]
    NotOurs { path: PathBuf, what: &'static str },
    #[error("{path} is {what}; remove it or set another path for the template")]
    InTheWay { path: PathBuf, what: &'static str },
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Unsafe(#[from] crate::paths::walk::WalkError),
}

/// What writing a template did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Changed,
    Unchanged,
}

/// The template's bytes; on failure every problem (names of secrets and keys,
/// never values).
pub(crate) fn build(
    t: &TemplateSpec,
    data: &BTreeMap<String, SecretData>,
) -> Result<Vec<u8>, Vec<String>> {
    match &t.source {
        Source::Content(segments) => parse::fill(segments, |p| {
            let d = data
                .get(&p.secret)
                .ok_or_else(|| format!("secret {} has no data", p.secret))?;
            match d.0.get(&p.key) {
                Some(v) => Ok(value_bytes(v)),
                None => Err(format!(
                    "{{{{ {p} }}}}: secret {} has no key {:?} (its keys: {})",
                    p.secret,
                    p.key,
                    key_list(d)
                )),
            }
        }),
        Source::EnvFrom(names) => {
            let mut entries = Vec::new();
            for s in names {
                let d = data
                    .get(s)
                    .ok_or_else(|| vec![format!("secret {s} has no data")])?;
                for (k, v) in &d.0 {
                    entries.push((format!("secret {s}"), k.clone(), value_bytes(v)));
                }
            }
            env::render(&entries)
        }
    }
}

fn key_list(d: &SecretData) -> String {
    if d.0.is_empty() {
        return "none".into();
    }
    d.0.keys()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Claim {
    path: PathBuf,
}

const CLAIMS_DIR: &str = "templates";
/// Temporary files are `.<leaf>.vaultkeeper-<random>`; those older than this
/// are debris of a crash (a live writer renames its file within seconds).
const STALE_TEMP: Duration = Duration::from_secs(600);

fn claimed(state_dir: &Path, name: &str, path: &Path) -> bool {
    let file = format!("{name}.json");
    crate::fs::load_record::<Claim>(&state_dir.join(CLAIMS_DIR), &file)
        .is_some_and(|c| c.path == path)
}

fn claim(state_dir: &Path, name: &str, path: &Path) -> Result<(), FsError> {
    let claim = Claim {
        path: path.to_path_buf(),
    };
    let (dir, file) = (state_dir.join(CLAIMS_DIR), format!("{name}.json"));
    crate::fs::save_record(
        state_dir,
        &dir,
        &file,
        &claim,
        crate::fs::Durability::Durable,
    )
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

fn kind(mode: u32) -> &'static str {
    match mode & S_IFMT {
        0o040000 => "a directory",
        0o010000 => "a FIFO",
        0o140000 => "a socket",
        0o020000 | 0o060000 => "a device",
        S_IFLNK => "a symlink",
        _ => "a file",
    }
}

/// Writes `bytes` as template `t` (see the module documentation).
pub(crate) fn write(
    t: &TemplateSpec,
    state_dir: &Path,
    bytes: &[u8],
) -> Result<Written, WriteError> {
    let uid = owner::resolve_user(&t.owner).map_err(|message| WriteError::Account { message })?;
    let gid = owner::resolve_group(&t.group).map_err(|message| WriteError::Account { message })?;
    let parent_path = t.path.parent().unwrap_or(Path::new("/"));
    let leaf = t
        .path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Every directory on the way is checked (no symlink unless root's all the
    // way, none writable by others); missing ones are created 0751.
    let parent = crate::paths::walk::open_dir(parent_path, Some(0o751))?;

    let ours = claimed(state_dir, &t.name, &t.path);
    match fstatat(&parent, leaf.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(fs_err("cannot stat", t.path.display(), e).into()),
        Ok(st) if st.st_mode & S_IFMT == S_IFREG => {
            let same_meta = st.st_uid == uid.as_raw()
                && st.st_gid == gid.as_raw()
                && st.st_mode & 0o7777 == t.mode
                && st.st_nlink == 1;
            let same = same_meta
                && st.st_size as u64 == bytes.len() as u64
                && matches!(fs::read_file_at(&parent, &leaf, parent_path), Ok(Some(b)) if b == bytes);
            if same {
                if !ours {
                    claim(state_dir, &t.name, &t.path)?;
                }
                return Ok(Written::Unchanged);
            }
            if !ours {
                return Err(WriteError::NotOurs {
                    path: t.path.clone(),
                    what: "a file",
                });
            }
        }
        Ok(st) if st.st_mode & S_IFMT == S_IFLNK => {
            if !ours {
                return Err(WriteError::NotOurs {
                    path: t.path.clone(),
                    what: "a symlink",
                });
            }
            tracing::warn!(
                "template {}: a symlink was planted at {}; it is replaced, not followed",
                t.name,
                t.path.display()
            );
        }
        Ok(st) => {
            return Err(WriteError::InTheWay {
                path: t.path.clone(),
                what: kind(st.st_mode),
            })
        }
    }
    if !ours {
        claim(state_dir, &t.name, &t.path)?;
    }
    remove_stale_temporaries(&parent, parent_path, &leaf);

    let tmp = format!(".{leaf}.vaultkeeper-{:016x}", rand::random::<u64>());
    let written = fs::create_file(&parent, &tmp, bytes, t.mode, Some((uid, gid)), parent_path)
        .and_then(|()| {
            renameat(&parent, tmp.as_str(), &parent, leaf.as_str())
                .map_err(|e| fs_err("cannot rename into place", t.path.display(), e))
        });
    if let Err(e) = written {
        let _ = unlinkat(&parent, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        return Err(e.into());
    }
    fs::fsync_dir(&parent, parent_path)?;
    Ok(Written::Changed)
}

/// Removes our temporary files for `leaf` left by a crash (owned by us, older
/// than [`STALE_TEMP`]); nothing else in the directory is touched.
fn remove_stale_temporaries(dir: &std::os::fd::OwnedFd, label: &Path, leaf: &str) {
    let Ok(names) = fs::list_dir(dir, label) else {
        return;
    };
    let prefix = format!(".{leaf}.vaultkeeper-");
    let cutoff = SystemTime::now() - STALE_TEMP;
    for n in names.iter().filter(|n| {
        n.strip_prefix(&prefix)
            .is_some_and(|r| r.len() == 16 && r.bytes().all(|b| b.is_ascii_hexdigit()))
    }) {
        let stale = fstatat(dir, n.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(|st| {
            st.st_mode & S_IFMT == S_IFREG
                && st.st_uid == Uid::effective().as_raw()
                && UNIX_EPOCH + Duration::from_secs(st.st_mtime.max(0) as u64) < cutoff
        });
        if stale {
            let _ = unlinkat(dir, n.as_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

#[cfg(test)]
mod tests;
