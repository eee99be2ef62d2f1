//! `vaultkeeper bootstrap`: first boot. Unwraps a single-use, time-limited
//! response-wrapped token into the AppRole role-id and secret-id files (0600 in a
//! 0700 directory). Every failure is reported with what to do; by default none of
//! them fails the boot.
//!
//! Vault answers "wrapping token is not valid or does not exist" both for a used
//! and for an expired token. To tell them apart, bootstrap records what
//! `sys/wrapping/lookup` said about each token it has seen (keyed by the token's
//! SHA-256, never the token) in `<stateDir>/bootstrap/tokens.json`: a token seen
//! before is "expired" past its creation time + TTL, else "already used". A token
//! never seen before can only be reported as "used or expired".

use crate::exit;
use crate::render::atomic;
use crate::secret::Secret;
use crate::spec::{AppRoleSpec, Spec};
use crate::vault::wrapping::{self, WrapError, WrapInfo};
use crate::vault::{VaultClient, VaultError};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("no wrapped token: neither the environment variable {env} nor the file {file} holds one; put the token from `vaultkeeper provision --host NAME` there (cloud-init writes VAULT_WRAPPED_TOKEN to /etc/environment)")]
    NoToken { env: String, file: String },
    #[error("the wrapped-token file {path} is refused: {reason}")]
    TokenFile { path: PathBuf, reason: String },
    #[error("the wrapped token was ALREADY USED (unwrapped by someone else, or by an earlier bootstrap that did not finish); if this host did not use it, treat it as stolen and check the audit log; re-provision this host with `vaultkeeper provision --host NAME` and redeploy the new token")]
    AlreadyUsed,
    #[error("the wrapped token EXPIRED at {expired_at} (it lived {ttl}s); re-provision this host with `vaultkeeper provision --host NAME` (raise --wrap-ttl if hosts take longer to boot) and redeploy the new token")]
    Expired { expired_at: String, ttl: u64 },
    #[error("the wrapped token is not valid: it was already used or has expired (Vault does not say which, and this host never saw it valid); re-provision this host with `vaultkeeper provision --host NAME` and redeploy the new token; if it should have been unused, check the audit log for who unwrapped it")]
    UsedOrExpired,
    #[error("Vault at {addr} is UNREACHABLE ({reason}); the host boots without AppRole credentials and bootstrap runs again at the next boot (or `systemctl start vaultkeeper-bootstrap`) while the token is valid")]
    Unreachable { addr: String, reason: String },
    #[error("REFUSING the wrapped token: it was created at {creation_path:?}, not by sys/wrapping/wrap or an AppRole secret-id of auth/{mount}; someone may have swapped it; it was NOT unwrapped; provision a new token with `vaultkeeper provision --host NAME`")]
    ForeignCreationPath {
        creation_path: String,
        mount: String,
    },
    #[error("the wrapped token holds only a secret-id, but there is no role-id at {path}; write the role's role-id there first (the token was NOT unwrapped and can still be used)")]
    RoleIdMissing { path: PathBuf },
    #[error("the unwrapped response holds no {missing}; the token was consumed; provision a new one with `vaultkeeper provision --host NAME`")]
    UnexpectedShape { missing: &'static str },
    #[error("REFUSING the wrapped credentials: they log in as AppRole role {got:?}, and this host must be {expected:?} (approle.roleName, default the host name); someone may have wrapped another role's credentials to make this host use them; nothing was stored and the test login's token was revoked; provision this host with `vaultkeeper provision --host {expected}`")]
    WrongRole { expected: String, got: String },
    #[error("cannot verify which AppRole role the unwrapped credentials belong to ({reason}); nothing was stored (the wrapping token is spent); provision this host again with `vaultkeeper provision --host NAME`")]
    CannotVerify { reason: String, code: u8 },
    #[error("cannot store the AppRole credentials: {0}")]
    Store(#[from] atomic::FsError),
    #[error(transparent)]
    Vault(VaultError),
}

impl BootstrapError {
    pub fn exit_code(&self) -> u8 {
        match self {
            BootstrapError::AlreadyUsed => exit::TOKEN_USED,
            BootstrapError::Expired { .. } => exit::TOKEN_EXPIRED,
            BootstrapError::UsedOrExpired
            | BootstrapError::NoToken { .. }
            | BootstrapError::TokenFile { .. } => exit::TOKEN_MISSING,
            BootstrapError::ForeignCreationPath { .. } => exit::TOKEN_FOREIGN,
            BootstrapError::Unreachable { .. } => exit::UNREACHABLE,
            BootstrapError::RoleIdMissing { .. } => exit::CREDENTIALS,
            BootstrapError::WrongRole { .. } => exit::TOKEN_WRONG_ROLE,
            BootstrapError::CannotVerify { code, .. } => *code,
            BootstrapError::UnexpectedShape { .. } => exit::MALFORMED,
            BootstrapError::Store(_) => exit::RENDER,
            BootstrapError::Vault(e) => e.exit_code(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrapped {
    /// Both credential files already exist.
    AlreadyDone,
    /// The token held role-id and secret-id (the `sys/wrapping/wrap` bundle).
    StoredBundle,
    /// The token held a secret-id; the role-id was already in place.
    StoredSecretId,
}

/// The systemd credential bootstrap reads first (`LoadCredential=` from
/// `vault.bootstrap.tokenFile`, or `ImportCredential=`).
pub const CREDENTIAL: &str = "vaultkeeper.wrapped-token";

/// Where the token comes from: the systemd credential [`CREDENTIAL`] in
/// `$CREDENTIALS_DIRECTORY`, else the file when it is configured and exists,
/// else the environment variable.
pub fn read_token(
    approle: &AppRoleSpec,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Secret, BootstrapError> {
    if let Some(dir) = env("CREDENTIALS_DIRECTORY").filter(|d| d.starts_with('/')) {
        let file = Path::new(&dir).join(CREDENTIAL);
        match crate::input::read(&file, crate::input::Input::WrappedToken) {
            Ok(bytes) => match std::str::from_utf8(&bytes).map(str::trim) {
                Ok(t) if !t.is_empty() => return Ok(Secret::new(t)),
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!(file = %file.display(), "the wrapped-token credential is not UTF-8 text; ignored")
                }
            },
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), "cannot read the wrapped-token credential: {}", e.reason())
            }
        }
    }
    if let Some(file) = &approle.wrapped_token_file {
        match crate::input::read(file, crate::input::Input::WrappedToken) {
            Ok(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| BootstrapError::TokenFile {
                    path: file.clone(),
                    reason: "it is not UTF-8 text; write the token from `vaultkeeper provision --host NAME`".into(),
                })?;
                if !text.trim().is_empty() {
                    return Ok(Secret::new(text.trim()));
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(BootstrapError::TokenFile {
                    path: file.clone(),
                    reason: e.reason(),
                })
            }
        }
    }
    if let Some(var) = &approle.wrapped_token_env {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            return Ok(Secret::new(v.trim()));
        }
    }
    Err(BootstrapError::NoToken {
        env: approle
            .wrapped_token_env
            .clone()
            .unwrap_or_else(|| "(none)".into()),
        file: approle
            .wrapped_token_file
            .as_ref()
            .map_or_else(|| "(none)".into(), |p| p.display().to_string()),
    })
}

/// Bootstraps, then erases the spent token from `erase_from` and the spec's
/// `wrappedTokenFile` ([`crate::token_erase`]).
pub async fn run(
    spec: &Spec,
    env: impl Fn(&str) -> Option<String>,
    erase_from: &[PathBuf],
) -> Result<Bootstrapped, BootstrapError> {
    let a = &spec.approle;
    if a.role_id_file.exists() && a.secret_id_file.exists() {
        return Ok(Bootstrapped::AlreadyDone);
    }
    let token = read_token(a, env)?;
    let done = unwrap_and_store(spec, &token).await?;
    let mut files = erase_from.to_vec();
    files.extend(a.wrapped_token_file.iter().cloned());
    crate::token_erase::erase_all(&files, &token);
    Ok(done)
}

async fn unwrap_and_store(spec: &Spec, token: &Secret) -> Result<Bootstrapped, BootstrapError> {
    let a = &spec.approle;
    let client = VaultClient::new(&spec.vault).map_err(BootstrapError::Vault)?;
    let seen = SeenTokens::new(&spec.state_dir);
    let digest = hex::encode(sha2::Sha256::digest(token.expose().as_bytes()));

    let info = match wrapping::lookup(&client, token).await {
        Ok(info) => info,
        Err(e) => return Err(classify(e, seen.get(&digest))),
    };
    seen.record(&digest, &info);
    if !wrapping::is_expected_creation_path(&info.creation_path, &a.mount) {
        return Err(BootstrapError::ForeignCreationPath {
            creation_path: info.creation_path,
            mount: a.mount.clone(),
        });
    }
    let bundle = info.creation_path == "sys/wrapping/wrap";
    if !bundle && !a.role_id_file.exists() {
        return Err(BootstrapError::RoleIdMissing {
            path: a.role_id_file.clone(),
        });
    }
    // Make sure we can store the result before the single-use token is spent.
    let dirs = credential_dirs(a)?;

    let data = match wrapping::unwrap(&client, token).await {
        Ok(d) => d,
        Err(e) => return Err(classify(e, Some(info))),
    };
    let secret_id = data
        .get("secret_id")
        .and_then(|v| v.as_str())
        .map(Secret::new)
        .ok_or(BootstrapError::UnexpectedShape {
            missing: "secret_id",
        })?;
    let role_id = data
        .get("role_id")
        .and_then(|v| v.as_str())
        .map(Secret::new);
    if bundle && role_id.is_none() {
        return Err(BootstrapError::UnexpectedShape { missing: "role_id" });
    }
    let login_role_id = match &role_id {
        Some(r) => r.clone(),
        None => read_role_id(&a.role_id_file)?,
    };
    verify_role(&client, spec, &login_role_id, &secret_id).await?;
    if let Some(role_id) = &role_id {
        store(&dirs, &a.role_id_file, role_id)?;
    }
    store(&dirs, &a.secret_id_file, &secret_id)?;
    Ok(if role_id.is_some() {
        Bootstrapped::StoredBundle
    } else {
        Bootstrapped::StoredSecretId
    })
}

/// The role-id already in place (a plain wrapped secret-id completes it), read
/// with the bounded credential reader.
fn read_role_id(path: &Path) -> Result<Secret, BootstrapError> {
    crate::fetch::read_secret_file("role-id", path).map_err(|e| {
        tracing::error!("{e}");
        BootstrapError::RoleIdMissing {
            path: path.to_path_buf(),
        }
    })
}

/// Logs in with the unwrapped credentials and checks the token's AppRole role
/// against this host's; the token is revoked either way. A `sys/wrapping/wrap`
/// bundle can be made by any token with the `default` policy, so the creation
/// path alone does not say whose credentials are inside.
async fn verify_role(
    client: &VaultClient,
    spec: &Spec,
    role_id: &Secret,
    secret_id: &Secret,
) -> Result<(), BootstrapError> {
    let expected = spec.approle.expected_role();
    let cannot = |reason: String, code: u8| BootstrapError::CannotVerify { reason, code };
    let token = crate::vault::approle::login(client, &spec.approle.mount, role_id, secret_id)
        .await
        .map_err(|e| {
            let code = if e.is_unreachable() {
                exit::UNREACHABLE
            } else {
                exit::CREDENTIALS
            };
            cannot(format!("the test login failed: {e}"), code)
        })?;
    let authed = client.with_token(token.token);
    let got = crate::vault::approle::lookup_self_role(&authed).await;
    crate::vault::approle::release(&authed).await;
    match got {
        Ok(Some(role)) if role == expected => {
            tracing::info!(
                "the unwrapped credentials log in as AppRole role {role:?}, this host's"
            );
            Ok(())
        }
        Ok(got) => Err(BootstrapError::WrongRole {
            expected,
            got: got.unwrap_or_else(|| "(not an AppRole token)".into()),
        }),
        Err(e) => Err(cannot(
            format!("auth/token/lookup-self failed: {e}"),
            e.exit_code(),
        )),
    }
}

fn classify(e: WrapError, known: Option<WrapInfo>) -> BootstrapError {
    match e {
        WrapError::Invalid { .. } => match known {
            None => BootstrapError::UsedOrExpired,
            Some(info) => match expiry(&info) {
                Some(at) if SystemTime::now() >= at => BootstrapError::Expired {
                    expired_at: humantime::format_rfc3339_seconds(at).to_string(),
                    ttl: info.creation_ttl,
                },
                _ => BootstrapError::AlreadyUsed,
            },
        },
        WrapError::Vault(VaultError::Unreachable { addr, reason }) => {
            BootstrapError::Unreachable { addr, reason }
        }
        WrapError::Vault(e) => BootstrapError::Vault(e),
    }
}

fn expiry(info: &WrapInfo) -> Option<SystemTime> {
    let created =
        humantime::parse_rfc3339_weak(info.creation_time.split('.').next()?.trim_end_matches('Z'))
            .ok()?;
    Some(created + Duration::from_secs(info.creation_ttl))
}

/// Open (and create, 0700) the directories of both credential files.
fn credential_dirs(
    a: &AppRoleSpec,
) -> Result<Vec<(PathBuf, std::os::fd::OwnedFd)>, atomic::FsError> {
    let mut dirs: Vec<(PathBuf, std::os::fd::OwnedFd)> = Vec::new();
    for f in [&a.role_id_file, &a.secret_id_file] {
        let parent = f.parent().unwrap_or(Path::new("/")).to_path_buf();
        if !dirs.iter().any(|(p, _)| p == &parent) {
            let fd = atomic::ensure_private_dir(&parent, 0o700)?;
            dirs.push((parent, fd));
        }
    }
    Ok(dirs)
}

fn store(
    dirs: &[(PathBuf, std::os::fd::OwnedFd)],
    file: &Path,
    value: &Secret,
) -> Result<(), atomic::FsError> {
    let parent = file.parent().unwrap_or(Path::new("/"));
    let (_, fd) = dirs
        .iter()
        .find(|(p, _)| p == parent)
        .expect("directory opened before");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut bytes = value.expose().as_bytes().to_vec();
    bytes.push(b'\n');
    let r = atomic::replace_file(fd, &name, &bytes, 0o600, parent);
    zeroize::Zeroize::zeroize(&mut bytes);
    r
}

/// What lookups said about wrapping tokens this host has seen.
struct SeenTokens {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Seen {
    creation_path: String,
    creation_time: String,
    creation_ttl: u64,
}

impl SeenTokens {
    fn new(state_dir: &Path) -> Self {
        SeenTokens {
            dir: state_dir.join("bootstrap"),
        }
    }

    fn all(&self) -> BTreeMap<String, Seen> {
        let Ok(fd) = atomic::open_dir_nofollow(&self.dir) else {
            return BTreeMap::new();
        };
        match atomic::read_file_at(&fd, "tokens.json", &self.dir) {
            Ok(Some(b)) => serde_json::from_slice(&b).unwrap_or_default(),
            _ => BTreeMap::new(),
        }
    }

    fn get(&self, digest: &str) -> Option<WrapInfo> {
        self.all().remove(digest).map(|s| WrapInfo {
            creation_path: s.creation_path,
            creation_time: s.creation_time,
            creation_ttl: s.creation_ttl,
        })
    }

    /// Best effort; entries past their expiry by more than 30 days are dropped.
    fn record(&self, digest: &str, info: &WrapInfo) {
        let mut all = self.all();
        let horizon = SystemTime::now() - Duration::from_secs(30 * 86400);
        all.retain(|_, s| {
            expiry(&WrapInfo {
                creation_path: s.creation_path.clone(),
                creation_time: s.creation_time.clone(),
                creation_ttl: s.creation_ttl,
            })
            .is_none_or(|at| at > horizon)
        });
        all.insert(
            digest.to_string(),
            Seen {
                creation_path: info.creation_path.clone(),
                creation_time: info.creation_time.clone(),
                creation_ttl: info.creation_ttl,
            },
        );
        let result = atomic::ensure_private_dir(&self.dir, 0o700).and_then(|fd| {
            let bytes = serde_json::to_vec(&all).expect("serializes");
            atomic::replace_file(&fd, "tokens.json", &bytes, 0o600, &self.dir)
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot record the wrapping token's lookup");
        }
    }
}

#[cfg(test)]
mod tests;
