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
use super::parse;
use super::spec::{Source, TemplateSpec};
use crate::render::atomic::{self, fs_err, FsError};
use crate::render::keys::value_bytes;
use crate::render::owner;
use crate::vault::kv::SecretData;
use nix::fcntl::{renameat, AtFlags};
use nix::sys::stat::fstatat;
use nix::unistd::{unlinkat, Uid, UnlinkatFlags};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
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
pub enum Written {
    Changed,
    Unchanged,
}

/// The template's bytes; on failure every problem (names of secrets and keys,
/// never values).
pub fn build(
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
    let dir = state_dir.join(CLAIMS_DIR);
    let Ok(fd) = atomic::open_dir_nofollow(&dir) else {
        return false;
    };
    match atomic::read_file_at(&fd, &format!("{name}.json"), &dir) {
        Ok(Some(bytes)) => serde_json::from_slice::<Claim>(&bytes).is_ok_and(|c| c.path == path),
        _ => false,
    }
}

fn claim(state_dir: &Path, name: &str, path: &Path) -> Result<(), FsError> {
    atomic::ensure_private_dir(state_dir, 0o700)?;
    let dir = state_dir.join(CLAIMS_DIR);
    let fd = atomic::ensure_private_dir(&dir, 0o700)?;
    let bytes = serde_json::to_vec(&Claim {
        path: path.to_path_buf(),
    })
    .expect("claim serializes");
    atomic::replace_file(&fd, &format!("{name}.json"), &bytes, 0o600, &dir)
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
pub fn write(t: &TemplateSpec, state_dir: &Path, bytes: &[u8]) -> Result<Written, WriteError> {
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
                && matches!(atomic::read_file_at(&parent, &leaf, parent_path), Ok(Some(b)) if b == bytes);
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
    let written = atomic::create_file(&parent, &tmp, bytes, t.mode, Some((uid, gid)), parent_path)
        .and_then(|()| {
            renameat(&parent, tmp.as_str(), &parent, leaf.as_str())
                .map_err(|e| fs_err("cannot rename into place", t.path.display(), e))
        });
    if let Err(e) = written {
        let _ = unlinkat(&parent, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        return Err(e.into());
    }
    atomic::fsync_dir(&parent, parent_path)?;
    Ok(Written::Changed)
}

/// Removes our temporary files for `leaf` left by a crash (owned by us, older
/// than [`STALE_TEMP`]); nothing else in the directory is touched.
fn remove_stale_temporaries(dir: &std::os::fd::OwnedFd, label: &Path, leaf: &str) {
    let Ok(names) = atomic::list_dir(dir, label) else {
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
mod tests {
    use super::*;
    use crate::spec::Spec;
    use serde_json::json;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn me() -> (String, String) {
        (
            nix::unistd::getuid().as_raw().to_string(),
            nix::unistd::getgid().as_raw().to_string(),
        )
    }

    fn template(root: &Path, t: serde_json::Value) -> (TemplateSpec, PathBuf) {
        let (u, g) = me();
        let mut t = t;
        t["owner"] = json!(u);
        t["group"] = json!(g);
        t["path"] = json!(root.join("out/rendered/t"));
        let spec = Spec::from_json(
            "t",
            &json!({
                "vault": {"address": "http://127.0.0.1:8200"},
                "stateDir": root.join("state"),
                "secrets": {
                    "db": {"secretPath": "a", "outputDir": root.join("out/db")},
                    "api": {"secretPath": "b", "outputDir": root.join("out/api")}
                },
                "templates": { "t": t }
            })
            .to_string(),
        )
        .unwrap();
        (spec.templates["t"].clone(), root.join("state"))
    }

    fn data(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, SecretData> {
        pairs
            .iter()
            .map(|(n, v)| {
                let m = v.as_object().unwrap().clone().into_iter().collect();
                (n.to_string(), SecretData(m))
            })
            .collect()
    }

    #[test]
    fn content_and_env_files_are_built_from_the_data() {
        let root = tempfile::tempdir().unwrap();
        let (t, _) = template(
            root.path(),
            json!({"content": "url=postgres://{{ db.user }}:{{db.pass}}@{{ api.host }}:{{ db.port }}/\n"}),
        );
        let d = data(&[
            (
                "db",
                json!({"user": "u", "pass": "p{{ db.user }}", "port": 5432}),
            ),
            ("api", json!({"host": "h"})),
        ]);
        assert_eq!(
            build(&t, &d).unwrap(),
            b"url=postgres://u:p{{ db.user }}@h:5432/\n"
        );
        let d2 = data(&[("db", json!({"user": "u"})), ("api", json!({}))]);
        let errs = build(&t, &d2).unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs[0].contains("{{ db.pass }}: secret db has no key \"pass\" (its keys: \"user\")"),
            "{errs:?}"
        );
        assert!(
            errs[1].contains("secret api has no key \"host\" (its keys: none)"),
            "{errs:?}"
        );

        let (t, _) = template(root.path(), json!({"envFrom": ["db", "api"]}));
        let d = data(&[
            ("db", json!({"USER": "u", "PASS": "a \"b\" $c"})),
            ("api", json!({"TOKEN": "t"})),
        ]);
        assert_eq!(
            build(&t, &d).unwrap(),
            b"PASS=\"a \\\"b\\\" \\$c\"\nUSER=\"u\"\nTOKEN=\"t\"\n"
        );
        let d = data(&[("db", json!({"bad-name": "x"})), ("api", json!({}))]);
        let errs = build(&t, &d).unwrap_err();
        assert!(
            errs[0]
                .contains("secret db: key \"bad-name\" is not a valid environment variable name"),
            "{errs:?}"
        );
    }

    #[test]
    fn writes_atomically_leaves_unchanged_files_alone_and_never_follows_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let (t, state) = template(root.path(), json!({"envFrom": ["db"], "mode": "0440"}));
        assert_eq!(write(&t, &state, b"A=\"1\"\n").unwrap(), Written::Changed);
        let m = std::fs::metadata(&t.path).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o440);
        let dir = std::fs::metadata(t.path.parent().unwrap()).unwrap();
        assert_eq!(dir.mode() & 0o7777, 0o751);
        let ino = m.ino();
        assert_eq!(write(&t, &state, b"A=\"1\"\n").unwrap(), Written::Unchanged);
        assert_eq!(std::fs::metadata(&t.path).unwrap().ino(), ino);
        assert_eq!(write(&t, &state, b"A=\"2\"\n").unwrap(), Written::Changed);
        assert_eq!(std::fs::read(&t.path).unwrap(), b"A=\"2\"\n");
        // A mode changed by someone else is restored.
        std::fs::set_permissions(&t.path, std::fs::Permissions::from_mode(0o444)).unwrap();
        assert_eq!(write(&t, &state, b"A=\"2\"\n").unwrap(), Written::Changed);
        assert_eq!(std::fs::metadata(&t.path).unwrap().mode() & 0o7777, 0o440);

        // A symlink planted at our path is replaced; its target is untouched.
        let victim = root.path().join("victim");
        std::fs::write(&victim, "original").unwrap();
        std::fs::remove_file(&t.path).unwrap();
        std::os::unix::fs::symlink(&victim, &t.path).unwrap();
        assert_eq!(write(&t, &state, b"A=\"3\"\n").unwrap(), Written::Changed);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");
        assert!(std::fs::symlink_metadata(&t.path).unwrap().is_file());
        // Only the rendered file is in the directory: no temporary left over.
        let names: Vec<_> = std::fs::read_dir(t.path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["t"]);
    }

    #[test]
    fn what_vaultkeeper_did_not_write_is_never_overwritten() {
        let root = tempfile::tempdir().unwrap();
        let (t, state) = template(root.path(), json!({"envFrom": ["db"]}));
        std::fs::create_dir_all(t.path.parent().unwrap()).unwrap();
        std::fs::write(&t.path, "someone else's").unwrap();
        let e = write(&t, &state, b"x").unwrap_err().to_string();
        assert!(
            e.contains("is a file that vaultkeeper did not write"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&t.path).unwrap(), "someone else's");
        std::fs::remove_file(&t.path).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &t.path).unwrap();
        let e = write(&t, &state, b"x").unwrap_err().to_string();
        assert!(
            e.contains("is a symlink that vaultkeeper did not write"),
            "{e}"
        );
        std::fs::remove_file(&t.path).unwrap();
        std::fs::create_dir(&t.path).unwrap();
        std::fs::write(t.path.join("keep"), "k").unwrap();
        let e = write(&t, &state, b"x").unwrap_err().to_string();
        assert!(e.contains("is a directory; remove it"), "{e}");
        assert_eq!(std::fs::read_to_string(t.path.join("keep")).unwrap(), "k");
        std::fs::remove_dir_all(&t.path).unwrap();
        nix::unistd::mkfifo(&t.path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = write(&t, &state, b"x").unwrap_err().to_string();
        assert!(e.contains("is a FIFO"), "{e}");
    }

    #[test]
    fn a_symlinked_parent_is_refused_and_crash_debris_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let (t, state) = template(root.path(), json!({"envFrom": ["db"]}));
        let parent = t.path.parent().unwrap();
        std::fs::create_dir_all(root.path().join("elsewhere")).unwrap();
        // A link to a directory that is not root's is never followed (when the
        // tests run as root, the target is handed to nobody).
        if nix::unistd::geteuid().is_root() {
            nix::unistd::chown(
                &root.path().join("elsewhere"),
                Some(nix::unistd::Uid::from_raw(65534)),
                None,
            )
            .unwrap();
        }
        std::fs::create_dir_all(parent.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(root.path().join("elsewhere"), parent).unwrap();
        let e = write(&t, &state, b"x").unwrap_err().to_string();
        assert!(e.contains("[rule: symlinked-parent]"), "{e}");
        assert_eq!(
            std::fs::read_dir(root.path().join("elsewhere"))
                .unwrap()
                .count(),
            0
        );
        std::fs::remove_file(parent).unwrap();

        std::fs::create_dir_all(parent).unwrap();
        let old = parent.join(".t.vaultkeeper-00000000000000aa");
        let fresh = parent.join(".t.vaultkeeper-00000000000000bb");
        let foreign = parent.join(".t.vaultkeeper-notours");
        for f in [&old, &fresh, &foreign] {
            std::fs::write(f, "debris").unwrap();
        }
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        write(&t, &state, b"x").unwrap();
        assert!(!old.exists());
        assert!(fresh.exists() && foreign.exists());
    }
}
