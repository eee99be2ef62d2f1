//! The Slack digest and the sealed alert, as Block Kit payloads for an incoming
//! webhook. This module builds payloads; delivery (outbox, retries) belongs to
//! [`crate::slack`].
//!
//! Used by the daemon ([`super::agent`]): every `insights.digest` (when
//! [`digest_due`] says so) it [`build`]s the digest, queues it in the Slack
//! outbox and then records the score in `<stateDir>/insights/last-digest.json`
//! with [`save_last`], so the next digest shows the change. On every seal check
//! [`SealWatch::observe`] returns a message exactly when the server turns sealed
//! or unsealed again. `vaultkeeper digest` prints the same payload.

use super::error::InsightsError;
use super::posture;
use super::status::{Server, Status};
use super::version::VersionReport;
use crate::slack::blocks::{esc, header, section};
use crate::spec::Spec;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LastDigest {
    pub score: Option<u32>,
    /// Unix seconds.
    pub sent_at: Option<u64>,
}

const DIR: &str = "insights";
const FILE: &str = "last-digest.json";

pub(crate) fn load_last(state_dir: &Path) -> LastDigest {
    crate::fs::load_record(&state_dir.join(DIR), FILE).unwrap_or_default()
}

pub(crate) fn save_last(state_dir: &Path, last: &LastDigest) -> Result<(), String> {
    let dir = state_dir.join(DIR);
    crate::fs::save_record(state_dir, &dir, FILE, last, crate::fs::Durability::Durable)
        .map_err(|e| format!("cannot record the digest in {}: {e}", dir.display()))
}

/// True when no digest was sent yet or the last one is `every` old.
pub(crate) fn digest_due(last_sent: Option<u64>, now: u64, every: Duration) -> bool {
    last_sent.is_none_or(|t| now.saturating_sub(t) >= every.as_secs())
}

pub(crate) struct DigestInput<'a> {
    pub host: &'a str,
    pub status: &'a Status,
    pub posture: Option<&'a posture::Report>,
    pub previous_score: Option<u32>,
    /// The version check, or why it could not run.
    pub version: Result<&'a VersionReport, String>,
    pub leases_headline: Option<&'a str>,
}

/// "72 (+5 since the last digest)".
pub(crate) fn score_line(score: u32, previous: Option<u32>) -> String {
    match previous {
        None => format!("{score}/100 (first digest)"),
        Some(p) if p == score => format!("{score}/100 (unchanged)"),
        Some(p) => format!(
            "{score}/100 ({:+} since the last digest)",
            score as i64 - p as i64
        ),
    }
}

fn mrkdwn(text: String) -> Value {
    section(&text)
}

/// The server line of the digest (also `/vault status` in Slack).
pub(crate) fn server_block(s: &Server) -> Value {
    let state = if s.sealed {
        ":red_circle: *SEALED*"
    } else {
        ":large_green_circle: unsealed"
    };
    mrkdwn(format!(
        "*Server* {} — {state}, version {}, HA {}, cluster {}",
        esc(&s.address),
        esc(s.version.as_deref().unwrap_or("unknown")),
        match s.ha_enabled {
            Some(true) => "on",
            Some(false) => "off",
            None => "unknown",
        },
        esc(s.cluster_name.as_deref().unwrap_or("unknown"))
    ))
}

/// The secrets line: how many, and which are served from the cache.
pub(crate) fn secrets_block(status: &Status) -> Value {
    let cached: Vec<String> = status
        .secrets
        .iter()
        .filter(|x| x.from_cache_since.is_some())
        .map(|x| esc(&x.name))
        .collect();
    mrkdwn(format!(
        "*Secrets* {} on this host{}",
        status.secrets.len(),
        if cached.is_empty() {
            ", all fresh".to_string()
        } else {
            format!(", served from the cache: {}", cached.join(", "))
        }
    ))
}

/// The posture line: score, its change, the three costliest findings.
pub(crate) fn posture_block(posture: Option<&posture::Report>, previous: Option<u32>) -> Value {
    mrkdwn(match posture {
        Some(p) => {
            let mut t = format!("*Posture* {}", score_line(p.score, previous));
            let worst: Vec<String> = p
                .findings
                .iter()
                .filter(|f| f.counts() && f.points < f.weight)
                .take(3)
                .map(|f| format!("• {} (−{})", f.title, f.weight - f.points))
                .collect();
            if !worst.is_empty() {
                t.push('\n');
                t.push_str(&worst.join("\n"));
            }
            t
        }
        None => "*Posture* not assessed (server sealed or unreadable)".into(),
    })
}

/// The updates line.
pub(crate) fn updates_block(version: Result<&VersionReport, &str>) -> Value {
    mrkdwn(match version {
        Ok(v) if v.update_available => format!(
            "*Updates* {} → {} available ({} release(s), {} days behind)",
            esc(&v.server_version),
            esc(v.latest_version.as_deref().unwrap_or("?")),
            v.versions_behind,
            v.days_behind.map_or("?".into(), |d| d.to_string())
        ),
        Ok(v) => format!(
            "*Updates* none: {} is the latest release",
            esc(&v.server_version)
        ),
        Err(r) => format!("*Updates* not checked: {}", esc(r)),
    })
}

/// The leases line.
pub(crate) fn leases_block(headline: Option<&str>) -> Value {
    mrkdwn(format!(
        "*Leases* {}",
        esc(headline.unwrap_or("not assessed"))
    ))
}

/// The digest as a Block Kit payload (`text` is the notification fallback).
pub(crate) fn digest_payload(i: &DigestInput) -> Value {
    let s = &i.status.server;
    let mut blocks = vec![
        header(&format!("Vault digest for {}", i.host)),
        server_block(s),
    ];
    if let Some(w) = &i.status.audit_warning {
        blocks.push(mrkdwn(format!(":warning: *{}*", esc(w))));
    }
    blocks.push(secrets_block(i.status));
    blocks.push(posture_block(i.posture, i.previous_score));
    blocks.push(updates_block(
        i.version.as_ref().map(|v| *v).map_err(|e| e.as_str()),
    ));
    blocks.push(leases_block(i.leases_headline));
    let text = format!(
        "Vault digest for {}: {}{}",
        i.host,
        if s.sealed { "SEALED" } else { "unsealed" },
        i.posture
            .map(|p| format!(", posture {}", score_line(p.score, i.previous_score)))
            .unwrap_or_default()
    );
    json!({ "text": text, "blocks": blocks })
}

/// The immediate alert when the server becomes sealed.
pub(crate) fn sealed_alert_payload(server: &Server, host: &str) -> Value {
    let text = format!(":rotating_light: Vault at {} is SEALED (seen from {host}): secrets are served from the cache until someone unseals it", server.address);
    json!({
        "text": text,
        "blocks": [
            header("Vault is sealed"),
            section(&format!("{text}.\nVersion {}, cluster {}. Unseal with `bao operator unseal` (or `vault operator unseal`).", server.version.as_deref().unwrap_or("unknown"), server.cluster_name.as_deref().unwrap_or("unknown"))),
        ]
    })
}

/// The all-clear after a sealed alert.
pub(crate) fn unsealed_payload(server: &Server, host: &str, sealed_for: Option<Duration>) -> Value {
    let text = format!(
        ":large_green_circle: Vault at {} is unsealed again (seen from {host}){}",
        server.address,
        sealed_for.map_or(String::new(), |d| format!(
            " after {}",
            crate::clock::coarse_words(d.as_secs())
        ))
    );
    json!({ "text": text, "blocks": [ header("Vault is unsealed again"), section(&text) ] })
}

/// A digest that could not be collected, saying why (the server is unreachable,
/// the host cannot log in): the team still hears from the host on schedule.
pub(crate) fn failed_digest_payload(host: &str, address: &str, reason: &str) -> Value {
    let text = format!("Vault digest for {host}: nothing collected from {address}: {reason}");
    json!({
        "text": text,
        "blocks": [
            header(&format!("Vault digest for {host}")),
            section(&format!(":warning: *Nothing collected* from {address}: {}", esc(reason))),
        ]
    })
}

/// A seal-state change worth telling the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealChange {
    Sealed,
    Unsealed { sealed_for: Option<Duration> },
}

/// Remembers the last seal state; reports the turn to sealed (also when the
/// first look finds it sealed) and, after that, the turn back.
#[derive(Debug, Default)]
pub(crate) struct SealWatch {
    sealed: Option<bool>,
    since: Option<std::time::Instant>,
}

impl SealWatch {
    pub(crate) fn observe(&mut self, sealed: bool) -> Option<SealChange> {
        let was = self.sealed.replace(sealed);
        match (was, sealed) {
            (Some(true), true) | (None | Some(false), false) => None,
            (None | Some(false), true) => {
                self.since = Some(std::time::Instant::now());
                Some(SealChange::Sealed)
            }
            (Some(true), false) => Some(SealChange::Unsealed {
                sealed_for: self.since.take().map(|t| t.elapsed()),
            }),
        }
    }
}

/// A digest, and what to record once it is safely queued.
pub(crate) struct Digest {
    pub payload: Value,
    pub record: LastDigest,
}

/// Collects everything and builds the digest; records the score for the next one.
pub(crate) async fn build(
    spec: &Spec,
    env: &impl Fn(&str) -> Option<String>,
    host: &str,
) -> Result<Digest, InsightsError> {
    let client = crate::vault::VaultClient::new(&spec.vault)?;
    let authed = super::token::authenticate(&client, spec, env).await;
    let status = super::status::collect(
        &client,
        authed
            .as_ref()
            .map(|(c, s)| (c, *s))
            .map_err(|e| e.to_string()),
        spec,
    )
    .await?;
    let mut posture_report = None;
    let mut leases_headline = None;
    if let (Ok((c, _)), false) = (&authed, status.server.sealed) {
        posture_report = Some(super::posture::assess(c, &status.server, spec.vault.timeout).await);
        leases_headline = Some(super::leases::collect(c).await.headline);
    }
    super::token::release(&authed).await;
    let version = match &status.server.version {
        Some(v) => {
            let feed = spec
                .insights
                .version_feed
                .clone()
                .unwrap_or_else(|| super::version::default_feed(v).to_string());
            super::version::fetch_feed(&feed, spec.vault.timeout)
                .await
                .map(|r| super::version::compare(v, &feed, &r))
                .map_err(|e| e.to_string())
        }
        None => Err("the server reports no version".into()),
    };
    let last = load_last(&spec.state_dir);
    let payload = digest_payload(&DigestInput {
        host,
        status: &status,
        posture: posture_report.as_ref(),
        previous_score: last.score,
        version: version.as_ref().map_err(Clone::clone),
        leases_headline: leases_headline.as_deref(),
    });
    let record = LastDigest {
        score: posture_report.as_ref().map(|p| p.score).or(last.score),
        sent_at: Some(crate::clock::now_unix()),
    };
    Ok(Digest { payload, record })
}

#[cfg(test)]
mod tests;
