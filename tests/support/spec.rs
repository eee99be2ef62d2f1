//! Spec files for tests: everything under one temporary root.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A temporary host: state, outputs and caches below `root`.
pub struct Host {
    pub root: tempfile::TempDir,
}

impl Host {
    pub fn new() -> Host {
        Host {
            root: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path("state")
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.path(&format!("run/secrets/{name}"))
    }

    /// A spec for Vault at `addr` with these secrets (name → partial secret spec;
    /// outputDir and cacheDir default to this host's directories).
    pub fn spec(&self, addr: &str, secrets: Value) -> Value {
        let mut secrets = secrets;
        for (name, s) in secrets.as_object_mut().unwrap() {
            let s = s.as_object_mut().unwrap();
            s.entry("outputDir").or_insert(json!(self.out(name)));
        }
        json!({
            "vault": { "address": addr, "timeout": "3s" },
            "approle": {
                "roleIdFile": self.path("state/approle/role-id"),
                "secretIdFile": self.path("state/approle/secret-id"),
            },
            "stateDir": self.state_dir(),
            "secrets": secrets,
            "criticalServices": [],
        })
    }

    pub fn write_spec(&self, spec: &Value) -> PathBuf {
        let p = self.path("spec.json");
        std::fs::write(&p, serde_json::to_string_pretty(spec).unwrap()).unwrap();
        p
    }

    /// The spec as NixOS links it, `etc/spec.json` (see [`Host::replace_spec`]).
    pub fn etc_spec(&self) -> PathBuf {
        self.path("etc/spec.json")
    }

    /// Writes `spec` to [`Host::etc_spec`] atomically, as NixOS does (a new
    /// file renamed over the old), so a watching daemon never reads half of it.
    pub fn replace_spec(&self, spec: &Value) -> PathBuf {
        let p = self.etc_spec();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(spec).unwrap()).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        p
    }

    /// A secret of the spec: its KV path and this host's output directory.
    pub fn secret_entry(&self, name: &str, path: &str) -> Value {
        json!({"secretPath": path, "outputDir": self.out(name)})
    }

    /// Writes role-id and secret-id as bootstrap would (0600: vaultkeeper refuses
    /// credential files others can read).
    pub fn write_credentials(&self, role_id: &str, secret_id: &str) {
        let d = self.path("state/approle");
        std::fs::create_dir_all(&d).unwrap();
        write_private(&d.join("role-id"), role_id);
        write_private(&d.join("secret-id"), secret_id);
    }
}

/// A dev OpenBao with an AppRole `role` whose credentials a new [`Host`] holds.
pub fn dev_host(role: &str) -> (super::bao::Bao, Host) {
    let bao = super::bao::Bao::dev();
    let host = Host::new();
    let (role_id, secret_id) = bao.approle(role);
    host.write_credentials(&role_id, &secret_id);
    (bao, host)
}

/// Writes a file only its owner may read (as credentials must be), atomically.
pub fn write_private(path: &Path, content: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("private-tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .unwrap();
    std::io::Write::write_all(&mut f, content.as_bytes()).unwrap();
    drop(f);
    std::fs::rename(&tmp, path).unwrap();
}

/// The files of a rendered secret: name → content.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}
