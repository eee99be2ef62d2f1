//! The wrapping tokens this host has seen (by SHA-256, never the token) and
//! what `sys/wrapping/lookup` said about them, in
//! `<stateDir>/bootstrap/tokens.json` ([`SeenTokens`], a state record read and
//! written by [`crate::fs::load_record`]/[`crate::fs::save_record`]), so that "not valid" can be
//! told apart as expired or already used ([`classify`]).

use super::error::BootstrapError;
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
                    expired_at: crate::clock::rfc3339(at),
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
    let created = crate::clock::parse_rfc3339(&info.creation_time)?;
    Some(created + Duration::from_secs(info.creation_ttl))
}

const FILE: &str = "tokens.json";

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
        crate::fs::load_record(&self.dir, FILE).unwrap_or_default()
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
        let durable = crate::fs::Durability::Durable;
        let result = crate::fs::save_record(&self.dir, &self.dir, FILE, &all, durable);
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot record the wrapping token's lookup");
        }
    }
}
