//! Snapshots of what the commands show, collected from Vault with the host's
//! AppRole, read-only (the same reads as `vaultkeeper status`, `posture`,
//! `report leases|usage`, `version-check`; see docs/policies/insights.hcl).
//!
//! A snapshot younger than `chat.collectionInterval` is answered at once. An
//! older one is collected again in its own task; at most one collection per
//! command runs at a time, and every request waiting for it shares its result
//! (so a burst of commands costs Vault one collection). A failed collection is
//! answered (with the reason) but not kept. The AppRole token is reused across
//! collections for half its lease (at most 15 minutes), so commands do not pile
//! up tokens in Vault; before each reuse `auth/token/lookup-self` says whether
//! it still works (a revoked token means a new login). A token past its reuse
//! window is revoked when the next one is made, the last one when the endpoint
//! stops.

use super::command::Ask;
use super::render;
use crate::insights::status::{self, Server};
use crate::insights::TokenSource;
use crate::spec::{AppRoleSpec, Spec, VaultSpec};
use crate::vault::VaultClient;
use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a snapshot's seal state is checked before it is answered.
pub(crate) const SEAL_PROBE: Duration = Duration::from_millis(500);
/// A collection taking longer than this is given up (and answered as such).
pub(crate) const COLLECT_MAX: Duration = Duration::from_secs(120);
/// The longest a token is reused.
const TOKEN_REUSE_MAX: Duration = Duration::from_secs(900);

/// One collected answer.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub answer: Arc<Value>,
    /// Unix seconds; `None` for an answer that is not a snapshot (a failure).
    pub collected_at: Option<u64>,
    /// Whether the server was sealed when this was collected.
    sealed: Option<bool>,
    at: Instant,
}

pub(crate) type Pending = Shared<BoxFuture<'static, Snapshot>>;

#[derive(Default)]
struct Slot {
    fresh: Option<Snapshot>,
    pending: Option<Pending>,
}

struct Token {
    key: (VaultSpec, AppRoleSpec),
    client: VaultClient,
    until: Instant,
}

pub(crate) struct Collector {
    host: String,
    spec: watch::Receiver<Arc<Spec>>,
    slots: Mutex<HashMap<Ask, Slot>>,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl Collector {
    pub(crate) fn new(host: String, spec: watch::Receiver<Arc<Spec>>) -> Collector {
        Collector {
            host,
            spec,
            slots: Mutex::default(),
            token: tokio::sync::Mutex::new(None),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Ask, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The snapshot of `ask` when it is younger than `max_age`.
    pub(crate) fn fresh(&self, ask: Ask, max_age: Duration) -> Option<Snapshot> {
        self.slots()
            .get(&ask)
            .and_then(|s| s.fresh.clone())
            .filter(|s| s.at.elapsed() < max_age)
    }

    /// Like [`Collector::fresh`], but a snapshot is given only while the
    /// server's seal state (`sys/seal-status`, no token, at most
    /// [`SEAL_PROBE`]) is still the one it was collected in: an operator asking
    /// "is it sealed?" right after an alert never gets a stale "unsealed".
    /// When the state changed, every snapshot is dropped.
    pub(crate) async fn fresh_checked(&self, ask: Ask, max_age: Duration) -> Option<Snapshot> {
        let snap = self.fresh(ask, max_age)?;
        let Some(was) = snap.sealed else {
            return Some(snap);
        };
        let vault = self.spec.borrow().vault.clone();
        let probe = async {
            let c = VaultClient::new(&vault).ok()?;
            let v = crate::insights::read_unauthenticated(&c, "sys/seal-status")
                .await
                .ok()?;
            v["sealed"].as_bool()
        };
        match tokio::time::timeout(SEAL_PROBE, probe).await {
            Ok(Some(now)) if now != was => {
                tracing::info!(
                    "chat: the server is {} now: collecting again",
                    if now { "sealed" } else { "unsealed" }
                );
                for slot in self.slots().values_mut() {
                    slot.fresh = None;
                }
                None
            }
            _ => Some(snap),
        }
    }

    /// The collection of `ask` in progress, or a new one.
    pub(crate) fn start(self: &Arc<Self>, ask: Ask) -> Pending {
        let mut slots = self.slots();
        let slot = slots.entry(ask).or_default();
        if let Some(p) = &slot.pending {
            return p.clone();
        }
        let me = self.clone();
        let task = tokio::spawn(async move {
            let spec = me.spec.borrow().clone();
            let started = Instant::now();
            let answer = match tokio::time::timeout(COLLECT_MAX, me.collect(&spec, ask)).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(reason)) => Err(reason),
                Err(_) => Err(format!(
                    "no answer within {}",
                    crate::clock::coarse_words(COLLECT_MAX.as_secs())
                )),
            };
            let snap = match answer {
                Ok((v, sealed)) => Snapshot {
                    answer: Arc::new(v),
                    collected_at: Some(crate::clock::now_unix()),
                    sealed,
                    at: Instant::now(),
                },
                Err(reason) => {
                    tracing::warn!("chat: cannot collect the {}: {reason}", ask.word());
                    Snapshot {
                        answer: Arc::new(render::failure(
                            &me.host,
                            ask,
                            &spec.vault.address,
                            &reason,
                        )),
                        collected_at: None,
                        sealed: None,
                        at: Instant::now(),
                    }
                }
            };
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "chat: collected the {}",
                ask.word()
            );
            let mut slots = me.slots();
            let slot = slots.entry(ask).or_default();
            slot.pending = None;
            if snap.collected_at.is_some() {
                slot.fresh = Some(snap.clone());
            }
            snap
        });
        let host = self.host.clone();
        let pending = async move {
            task.await.unwrap_or_else(|e| Snapshot {
                answer: Arc::new(render::failure(
                    &host,
                    ask,
                    "Vault",
                    &format!("the collection failed: {e}"),
                )),
                collected_at: None,
                sealed: None,
                at: Instant::now(),
            })
        }
        .boxed()
        .shared();
        slot.pending = Some(pending.clone());
        pending
    }

    /// A client with the host's AppRole token, reused while it is young.
    async fn authed(&self, spec: &Spec, base: &VaultClient) -> Result<VaultClient, String> {
        let key = (spec.vault.clone(), spec.approle.clone());
        let mut t = self.token.lock().await;
        if let Some(tok) = t.as_ref() {
            if tok.key == key && Instant::now() < tok.until {
                // Still valid? (An operator may have revoked it.)
                match tok.client.read("auth/token/lookup-self").await {
                    Ok(_) => return Ok(tok.client.clone()),
                    Err(crate::vault::VaultError::PermissionDenied { .. }) => {
                        tracing::info!("chat: the cached token was refused: logging in again");
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        // A token past its reuse window (or from another spec) is revoked,
        // not left alive in Vault until its TTL ends.
        if let Some(old) = t.take() {
            crate::vault::approle::release(&old.client).await;
        }
        let creds = crate::fetch::read_credentials(&spec.approle).map_err(|e| e.to_string())?;
        let tok = crate::fetch::login(base, spec, &creds)
            .await
            .map_err(|e| format!("AppRole login failed: {e}"))?;
        let reuse = if tok.lease_duration.is_zero() {
            TOKEN_REUSE_MAX
        } else {
            (tok.lease_duration / 2).min(TOKEN_REUSE_MAX)
        };
        let client = base.with_token(tok.token);
        *t = Some(Token {
            key,
            client: client.clone(),
            until: Instant::now() + reuse,
        });
        Ok(client)
    }

    /// Revokes the token kept for reuse (when the endpoint stops).
    pub(crate) async fn release(&self) {
        if let Some(old) = self.token.lock().await.take() {
            crate::vault::approle::release(&old.client).await;
        }
    }

    /// The server, refusing a sealed one (nothing else can be read then).
    async fn unsealed(base: &VaultClient) -> Result<Server, String> {
        let server = status::server(base).await.map_err(|e| e.to_string())?;
        if server.sealed {
            return Err(format!(
                "Vault at {} is SEALED: unseal it (`bao operator unseal`)",
                server.address
            ));
        }
        Ok(server)
    }

    /// The answer, and the seal state it was collected in.
    async fn collect(&self, spec: &Spec, ask: Ask) -> Result<(Value, Option<bool>), String> {
        let host = &self.host;
        let base = VaultClient::new(&spec.vault).map_err(|e| e.to_string())?;
        match ask {
            Ask::Help => Ok((render::help(host, "/vault", None), None)),
            Ask::Status => {
                let server = status::server(&base).await.map_err(|e| e.to_string())?;
                let authed = if server.sealed {
                    Err("the server is sealed".to_string())
                } else {
                    self.authed(spec, &base).await
                };
                let s = status::collect(
                    &base,
                    authed
                        .as_ref()
                        .map(|c| (c, TokenSource::AppRole))
                        .map_err(Clone::clone),
                    spec,
                )
                .await
                .map_err(|e| e.to_string())?;
                Ok((render::status(host, &s), Some(s.server.sealed)))
            }
            Ask::Posture => {
                let server = Self::unsealed(&base).await?;
                let c = self.authed(spec, &base).await?;
                let r = crate::insights::posture::assess(&c, &server, spec.vault.timeout).await;
                let previous = crate::insights::digest::load_last(&spec.state_dir).score;
                Ok((render::posture(host, &r, previous), Some(false)))
            }
            Ask::Leases => {
                Self::unsealed(&base).await?;
                let c = self.authed(spec, &base).await?;
                Ok((
                    render::leases(host, &crate::insights::leases::collect(&c).await),
                    Some(false),
                ))
            }
            Ask::Usage => {
                Self::unsealed(&base).await?;
                let c = self.authed(spec, &base).await?;
                Ok((
                    render::usage(
                        host,
                        &crate::insights::usage::collect(&c, &spec.state_dir).await,
                    ),
                    Some(false),
                ))
            }
            Ask::Updates => {
                let server = status::server(&base).await.map_err(|e| e.to_string())?;
                let sealed = Some(server.sealed);
                let Some(v) = server.version else {
                    return Ok((
                        render::updates(host, Err("the server reports no version")),
                        sealed,
                    ));
                };
                let feed = spec
                    .insights
                    .version_feed
                    .clone()
                    .unwrap_or_else(|| crate::insights::version::default_feed(&v).to_string());
                let timeout = spec.vault.timeout.max(Duration::from_secs(10));
                match crate::insights::version::fetch_feed(&feed, timeout).await {
                    Ok(releases) => {
                        let r = crate::insights::version::compare(&v, &feed, &releases);
                        Ok((render::updates(host, Ok(&r)), sealed))
                    }
                    Err(e) => Ok((render::updates(host, Err(&e.to_string())), sealed)),
                }
            }
        }
    }
}
