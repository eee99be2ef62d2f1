//! The persistent last-known-good cache: one JSON file per secret in its cacheDir
//! (0700 directory, 0600 file, root), written atomically and fsynced after every
//! successful fetch, read when Vault is unreachable.

use crate::fs::{self, FsError};
use crate::spec::{KvVersion, SecretSpec};
use crate::vault::kv::{KvSecret, SecretData};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FILE: &str = "data.json";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CacheError {
    #[error("cache of secret {secret}: {source}")]
    Fs {
        secret: String,
        #[source]
        source: FsError,
    },
    #[error("cache of secret {secret} at {path} is unreadable ({detail}); delete it, the next successful fetch rewrites it")]
    Corrupt {
        secret: String,
        path: PathBuf,
        detail: String,
    },
    #[error(
        "cache of secret {secret} holds {cached}, not {wanted} (the spec changed); it is not used"
    )]
    OtherPath {
        secret: String,
        cached: String,
        wanted: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CacheFile {
    format: u32,
    kv_mount: String,
    secret_path: String,
    kv_version: u8,
    version: Option<u64>,
    /// Unix seconds.
    fetched_at: u64,
    data: BTreeMap<String, serde_json::Value>,
}

/// A cached secret.
#[derive(Debug, Clone)]
pub(crate) struct CacheEntry {
    pub fetched_at: SystemTime,
    /// The KV engine version the data was read with (1 or 2).
    pub kv_version: u8,
    pub version: Option<u64>,
    pub data: SecretData,
}

impl CacheEntry {
    pub(crate) fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.fetched_at).unwrap_or_default()
    }
}

/// Writes one secret's cache durably (fsync of the file and the directory).
pub(crate) fn store(
    secret: &SecretSpec,
    kv: &KvSecret,
    fetched_at: SystemTime,
) -> Result<(), CacheError> {
    let fs = |source| CacheError::Fs {
        secret: secret.name.clone(),
        source,
    };
    let dir = fs::ensure_private_dir(&secret.cache_dir, 0o700).map_err(fs)?;
    fs::replace_file(
        &dir,
        FILE,
        &encode(secret, kv, fetched_at),
        0o600,
        &secret.cache_dir,
    )
    .map_err(fs)
}

/// A cache file written to a temporary name, not yet renamed into place nor
/// fsynced: many secrets are staged, then [`commit`]ted with two `syncfs`
/// calls instead of two fsyncs (two journal commits) per secret.
pub(crate) struct Staged {
    secret: String,
    dir: std::os::fd::OwnedFd,
    dir_path: PathBuf,
    tmp: String,
}

pub(crate) fn stage(
    secret: &SecretSpec,
    kv: &KvSecret,
    fetched_at: SystemTime,
) -> Result<Staged, CacheError> {
    let fs = |source| CacheError::Fs {
        secret: secret.name.clone(),
        source,
    };
    let dir = fs::ensure_private_dir(&secret.cache_dir, 0o700).map_err(fs)?;
    let tmp = format!(".{FILE}.staged-{}", crate::render::debris::temp_tail());
    fs::write_new_file_volatile(
        &dir,
        &tmp,
        &encode(secret, kv, fetched_at),
        &secret.cache_dir,
    )
    .map_err(fs)?;
    Ok(Staged {
        secret: secret.name.clone(),
        dir,
        dir_path: secret.cache_dir.clone(),
        tmp,
    })
}

/// Removes the temporaries a crash left in the cacheDir (staged files between
/// [`stage`] and [`commit`], temporaries of [`store`]): each is a full copy of
/// an older version of the secret. The caller holds the secret's lock, which
/// every writer of the cache takes, so none of them is in use. Returns how many.
pub(crate) fn clean_debris(secret: &SecretSpec) -> usize {
    let Ok(dir) = fs::open_dir_nofollow(&secret.cache_dir) else {
        return 0;
    };
    crate::render::debris::remove_temporaries(
        &dir,
        &secret.cache_dir,
        &[format!(".{FILE}.staged-"), format!(".{FILE}.tmp-")],
        true,
    )
}

/// Makes staged cache files durable and visible: `syncfs` of each file system
/// involved (the data reaches the disk), `rename` of every file into place, and
/// `syncfs` again (the renames reach the disk). Returns the failures by secret.
pub(crate) fn commit(staged: Vec<Staged>) -> Vec<(String, CacheError)> {
    let mut failures = Vec::new();
    let sync_all = |staged: &[Staged], failures: &mut Vec<(String, CacheError)>| {
        let mut devices = std::collections::BTreeSet::new();
        for s in staged {
            let dev = nix::sys::stat::fstat(&s.dir)
                .map(|st| st.st_dev)
                .unwrap_or(0);
            if devices.insert(dev) {
                if let Err(e) = nix::unistd::syncfs(&s.dir) {
                    failures.push((
                        s.secret.clone(),
                        fs_error(&s.secret, "cannot syncfs", &s.dir_path, e),
                    ));
                }
            }
        }
    };
    sync_all(&staged, &mut failures);
    let mut placed = Vec::with_capacity(staged.len());
    for s in staged {
        match nix::fcntl::renameat(&s.dir, s.tmp.as_str(), &s.dir, FILE) {
            Ok(()) => placed.push(s),
            Err(e) => {
                let _ = nix::unistd::unlinkat(
                    &s.dir,
                    s.tmp.as_str(),
                    nix::unistd::UnlinkatFlags::NoRemoveDir,
                );
                failures.push((
                    s.secret.clone(),
                    fs_error(
                        &s.secret,
                        "cannot rename into place",
                        &s.dir_path.join(FILE),
                        e,
                    ),
                ));
            }
        }
    }
    sync_all(&placed, &mut failures);
    failures
}

fn fs_error(
    secret: &str,
    action: &'static str,
    path: &std::path::Path,
    e: nix::errno::Errno,
) -> CacheError {
    CacheError::Fs {
        secret: secret.to_string(),
        source: crate::fs::fs_err(action, path.display(), e),
    }
}

fn encode(secret: &SecretSpec, kv: &KvSecret, fetched_at: SystemTime) -> Vec<u8> {
    let file = CacheFile {
        format: FORMAT,
        kv_mount: secret.kv_mount.clone(),
        secret_path: secret.secret_path.clone(),
        kv_version: match secret.kv_version {
            KvVersion::V1 => 1,
            KvVersion::V2 => 2,
        },
        version: kv.version,
        fetched_at: crate::clock::unix_secs(fetched_at),
        data: kv.data.0.clone(),
    };
    serde_json::to_vec(&file).expect("cache file serializes")
}

/// The cached data, `Ok(None)` when there is none yet.
pub(crate) fn load(secret: &SecretSpec) -> Result<Option<CacheEntry>, CacheError> {
    let fs = |source| CacheError::Fs {
        secret: secret.name.clone(),
        source,
    };
    let dir = match fs::open_dir_nofollow(&secret.cache_dir) {
        Ok(d) => d,
        Err(e) if e.source.raw_os_error() == Some(nix::libc::ENOENT) => return Ok(None),
        Err(e) => return Err(fs(e)),
    };
    let Some(bytes) = fs::read_file_at(&dir, FILE, &secret.cache_dir).map_err(fs)? else {
        return Ok(None);
    };
    let path = secret.cache_dir.join(FILE);
    // serde's messages could quote a value; report only where the problem is.
    let file: CacheFile = serde_json::from_slice(&bytes).map_err(|e| CacheError::Corrupt {
        secret: secret.name.clone(),
        path: path.clone(),
        detail: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })?;
    if file.format != FORMAT {
        return Err(CacheError::Corrupt {
            secret: secret.name.clone(),
            path,
            detail: format!("format {} is not {FORMAT}", file.format),
        });
    }
    if file.secret_path != secret.secret_path || file.kv_mount != secret.kv_mount {
        return Err(CacheError::OtherPath {
            secret: secret.name.clone(),
            cached: format!("{}/{}", file.kv_mount, file.secret_path),
            wanted: format!("{}/{}", secret.kv_mount, secret.secret_path),
        });
    }
    Ok(Some(CacheEntry {
        fetched_at: UNIX_EPOCH + Duration::from_secs(file.fetched_at),
        kv_version: file.kv_version,
        version: file.version,
        data: SecretData(file.data),
    }))
}

#[cfg(test)]
mod tests;
