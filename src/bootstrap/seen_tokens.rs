//! The wrapping tokens this host has seen (by SHA-256, never the token) and
//! what `sys/wrapping/lookup` said about them, in
//! `<stateDir>/bootstrap/tokens.json` ([`SeenTokens`], a small state record
//! the lead folds into the crate's one helper), so that "not valid" can be
//! told apart as expired or already used ([`classify`]).

use super::error::BootstrapError;
use crate::render::atomic;
use crate::vault::wrapping::{WrapError, WrapInfo};
use crate::vault::VaultError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub(super) fn classify(e: WrapError, known: Option<WrapInfo>) -> BootstrapError {
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

pub(super) fn expiry(info: &WrapInfo) -> Option<SystemTime> {
    let created =
        humantime::parse_rfc3339_weak(info.creation_time.split('.').next()?.trim_end_matches('Z'))
            .ok()?;
    Some(created + Duration::from_secs(info.creation_ttl))
}

/// What lookups said about wrapping tokens this host has seen.
pub(super) struct SeenTokens {
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
    pub(super) fn new(state_dir: &Path) -> Self {
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

    pub(super) fn get(&self, digest: &str) -> Option<WrapInfo> {
        self.all().remove(digest).map(|s| WrapInfo {
            creation_path: s.creation_path,
            creation_time: s.creation_time,
            creation_ttl: s.creation_ttl,
        })
    }

    /// Best effort; entries past their expiry by more than 30 days are dropped.
    pub(super) fn record(&self, digest: &str, info: &WrapInfo) {
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
