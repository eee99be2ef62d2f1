//! `vaultkeeper version-check`: the server's version against the newest release
//! of a feed in the GitHub releases API shape (`tag_name`, `name`, `published_at`,
//! `body`, `prerelease`, `draft`). The default feed is openbao/openbao's for
//! OpenBao (2.x) and hashicorp/vault's for Vault (1.x).

use super::error::InsightsError;
use crate::clock::parse_rfc3339_secs;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(crate) const OPENBAO_FEED: &str = "https://api.github.com/repos/openbao/openbao/releases";
pub(crate) const VAULT_FEED: &str = "https://api.github.com/repos/hashicorp/vault/releases";

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Release {
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub prerelease: bool,
    #[serde(default)]
    pub draft: bool,
}

/// A numeric version: "v2.7.2", "2.7.2+ent", "1.18.0-rc1" (pre-release flag kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Pre-releases sort below the release: false < true, so store "is release".
    pub release: bool,
}

impl Version {
    pub(crate) fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let (core, pre) = match s.find(['-', '+']) {
            Some(i) => (&s[..i], s[i..].starts_with('-')),
            None => (s, false),
        };
        let mut it = core.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next().unwrap_or("0").parse().ok()?;
        let patch = it.next().unwrap_or("0").parse().ok()?;
        Some(Version {
            major,
            minor,
            patch,
            release: !pre,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which product the server is, from its version: OpenBao is 2.x and later, Vault 1.x.
pub(crate) fn default_feed(server_version: &str) -> &'static str {
    match Version::parse(server_version) {
        Some(v) if v.major >= 2 => OPENBAO_FEED,
        _ => VAULT_FEED,
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewerRelease {
    pub version: String,
    pub published_at: Option<String>,
    pub headline: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionReport {
    pub server_version: String,
    pub feed: String,
    pub latest_version: Option<String>,
    pub latest_published_at: Option<String>,
    pub update_available: bool,
    /// Releases newer than the server's.
    pub versions_behind: usize,
    /// Days from the server version's release (or, when the feed does not list it,
    /// from the first newer release) to the newest release.
    pub days_behind: Option<u64>,
    /// Newest first.
    pub newer: Vec<NewerRelease>,
}

/// The first meaningful line of release notes: markdown marks stripped, generic
/// headings ("What's Changed", "Changelog") skipped, at most 160 characters.
pub(crate) fn headline(r: &Release) -> String {
    const GENERIC: [&str; 5] = [
        "what's changed",
        "whats changed",
        "changelog",
        "release notes",
        "changes",
    ];
    let line = r
        .body
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches(['#', '*', '-', ' ', '>'])
                .trim_end_matches(['*', ':'])
                .trim()
        })
        .find(|l| !l.is_empty() && !GENERIC.contains(&l.to_lowercase().as_str()));
    let text = match line {
        Some(l) => l.to_string(),
        None => r
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| r.tag_name.clone()),
    };
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(159).collect::<String>())
    } else {
        text
    }
}

/// Compares `server_version` with the releases (drafts and pre-releases ignored).
pub(crate) fn compare(server_version: &str, feed: &str, releases: &[Release]) -> VersionReport {
    let current = Version::parse(server_version);
    let mut stable: Vec<(Version, &Release)> = releases
        .iter()
        .filter(|r| !r.draft && !r.prerelease)
        .filter_map(|r| {
            Version::parse(&r.tag_name)
                .filter(|v| v.release)
                .map(|v| (v, r))
        })
        .collect();
    stable.sort_by_key(|x| std::cmp::Reverse(x.0));
    stable.dedup_by(|a, b| a.0 == b.0);
    let newer: Vec<&(Version, &Release)> = stable
        .iter()
        .filter(|(v, _)| current.is_some_and(|c| *v > c))
        .collect();
    let latest = stable.first();
    let published = |r: &Release| r.published_at.as_deref().and_then(parse_rfc3339_secs);
    let days_behind = match (newer.first(), newer.last()) {
        (Some((_, newest)), Some((_, oldest_newer))) => {
            let from = stable
                .iter()
                .find(|(v, _)| Some(*v) == current)
                .and_then(|(_, r)| published(r))
                .or_else(|| published(oldest_newer));
            match (from, published(newest)) {
                (Some(f), Some(t)) => Some(t.saturating_sub(f) / 86400),
                _ => None,
            }
        }
        _ => Some(0),
    };
    VersionReport {
        server_version: server_version.to_string(),
        feed: feed.to_string(),
        latest_version: latest.map(|(v, _)| v.to_string()),
        latest_published_at: latest.and_then(|(_, r)| r.published_at.clone()),
        update_available: !newer.is_empty(),
        versions_behind: newer.len(),
        days_behind: if newer.is_empty() {
            Some(0)
        } else {
            days_behind
        },
        newer: newer
            .iter()
            .map(|(v, r)| NewerRelease {
                version: v.to_string(),
                published_at: r.published_at.clone(),
                headline: headline(r),
            })
            .collect(),
    }
}

/// Fetches a feed (GitHub API headers; a `file://`-free plain GET).
pub(crate) async fn fetch_feed(
    url: &str,
    timeout: Duration,
) -> Result<Vec<Release>, InsightsError> {
    let err = |reason: String| InsightsError::Feed {
        url: url.to_string(),
        reason,
    };
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("vaultkeeper/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let resp = http
        .get(url)
        .header("Accept", "application/vnd.github+json")
        .send()
        .await
        .map_err(|e| {
            err(if e.is_timeout() {
                "timed out".into()
            } else {
                format!("connection failed: {e}")
            })
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(err(format!("HTTP {}", status.as_u16())));
    }
    let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| err(format!("not a GitHub releases list ({e})")))
}

#[cfg(test)]
mod tests;
