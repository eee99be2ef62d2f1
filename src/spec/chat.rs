//! The `chat` section of the spec: the Slack slash-command endpoint.
//!
//! ```json
//! "chat": {
//!   "listen": "127.0.0.1:8093",
//!   "signingSecretFile": "/run/secrets/slack/signing-secret",
//!   "allowedChannels": ["C0123456789"],
//!   "allowedUsers": ["U0123456789"],
//!   "collectionInterval": "1m",
//!   "responseType": "ephemeral"
//! }
//! ```
//!
//! The signing secret itself never goes in the spec (nor in the Nix store):
//! only the path of the file holding it. `testResponseOrigin` exists for the
//! test suite only (see [`ChatSpec::test_response_origin`]).

use super::error::Problem;
use crate::spec::interval::parse_duration;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The `chat` section exactly as JSON writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawChat {
    pub listen: String,
    pub signing_secret_file: String,
    #[serde(default)]
    pub allowed_channels: Vec<String>,
    #[serde(default)]
    pub allowed_users: Vec<String>,
    pub collection_interval: Option<String>,
    pub response_type: Option<String>,
    /// TEST ONLY: see [`ChatSpec::test_response_origin`].
    pub test_response_origin: Option<String>,
}

/// Who sees the answer: only the person who asked, or the whole channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseType {
    Ephemeral,
    InChannel,
}

impl ResponseType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ResponseType::Ephemeral => "ephemeral",
            ResponseType::InChannel => "in_channel",
        }
    }
}

/// The resolved `chat` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChatSpec {
    /// Where the HTTP endpoint listens (behind a TLS reverse proxy).
    pub listen: SocketAddr,
    /// The Slack app's signing secret (a secret: never logged).
    pub signing_secret_file: PathBuf,
    /// Channel IDs commands are answered in; empty = any channel.
    pub allowed_channels: Vec<String>,
    /// User IDs whose commands are answered; empty = anyone in the workspace.
    pub allowed_users: Vec<String>,
    /// A snapshot younger than this is answered at once; older ones are
    /// collected again (at most one collection per command at a time).
    pub collection_interval: Duration,
    pub response_type: ResponseType,
    /// TEST ONLY. In production a `response_url` must be
    /// `https://hooks.slack.com/...`; the test suite's stand-in for Slack is a
    /// loopback HTTP server, so this key admits exactly one extra origin, and
    /// only a loopback IP literal (`http://127.0.0.1:PORT`). The NixOS module
    /// never sets it.
    pub test_response_origin: Option<String>,
}

pub(crate) const DEFAULT_COLLECTION_INTERVAL: Duration = Duration::from_secs(60);
/// At most this many entries per allow list.
pub(crate) const MAX_ALLOWED: usize = 1000;

/// A Slack channel ID (`C…` public, `G…` private, `D…` direct message) or user
/// ID (`U…`, `W…` enterprise): an uppercase letter then uppercase letters and
/// digits. Names are not accepted: anyone who can rename a channel could
/// otherwise move the permission.
pub(crate) fn is_slack_id(s: &str, first: &[u8]) -> bool {
    let b = s.as_bytes();
    (3..=32).contains(&b.len())
        && first.contains(&b[0])
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

pub(crate) const CHANNEL_PREFIXES: &[u8] = b"CGD";
pub(crate) const USER_PREFIXES: &[u8] = b"UW";

fn ids(
    list: Vec<String>,
    key: &str,
    first: &[u8],
    example: &str,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    if list.len() > MAX_ALLOWED {
        problems.push(Problem::new(
            format!("chat.{key}"),
            format!("{} entries; at most {MAX_ALLOWED}", list.len()),
        ));
    }
    for (i, id) in list.iter().enumerate() {
        if !is_slack_id(id, first) {
            problems.push(Problem::new(
                format!("chat.{key}[{i}]"),
                format!(
                    "{:?} is not a Slack ID; write the ID (e.g. \"{example}\", shown in Slack under the name's details), not a name",
                    crate::slack::blocks::truncate(id, 64)
                ),
            ));
        }
    }
    list
}

/// Validates the `chat` section.
pub(crate) fn resolve(raw: RawChat, problems: &mut Vec<Problem>) -> ChatSpec {
    let listen = match raw.listen.parse::<SocketAddr>() {
        Ok(a) if a.port() != 0 => a,
        _ => {
            problems.push(Problem::new(
                "chat.listen",
                format!(
                    "{:?} is not an IP address and port; write e.g. \"127.0.0.1:8093\" (a TLS reverse proxy forwards Slack's requests to it)",
                    raw.listen
                ),
            ));
            SocketAddr::from(([127, 0, 0, 1], 8093))
        }
    };
    let signing_secret_file = PathBuf::from(&raw.signing_secret_file);
    if !signing_secret_file.is_absolute()
        || signing_secret_file
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        problems.push(Problem::new(
            "chat.signingSecretFile",
            format!(
                "{:?} is not an absolute path without \"..\"; write e.g. \"/run/secrets/slack/signing-secret\" (the secret itself never goes in the spec)",
                raw.signing_secret_file
            ),
        ));
    }
    let allowed_channels = ids(
        raw.allowed_channels,
        "allowedChannels",
        CHANNEL_PREFIXES,
        "C0123456789",
        problems,
    );
    let allowed_users = ids(
        raw.allowed_users,
        "allowedUsers",
        USER_PREFIXES,
        "U0123456789",
        problems,
    );
    let collection_interval = match raw.collection_interval.as_deref().map(parse_duration) {
        None => DEFAULT_COLLECTION_INTERVAL,
        Some(Ok(d)) if d >= Duration::from_secs(5) && d <= Duration::from_secs(86400) => d,
        Some(Ok(_)) => {
            problems.push(Problem::new(
                "chat.collectionInterval",
                "must be between 5s and 24h, e.g. \"1m\"",
            ));
            DEFAULT_COLLECTION_INTERVAL
        }
        Some(Err(e)) => {
            problems.push(Problem::new("chat.collectionInterval", e));
            DEFAULT_COLLECTION_INTERVAL
        }
    };
    let response_type = match raw.response_type.as_deref() {
        None | Some("ephemeral") => ResponseType::Ephemeral,
        Some("in_channel") => ResponseType::InChannel,
        Some(other) => {
            problems.push(Problem::new(
                "chat.responseType",
                format!(
                    "{:?} is not \"ephemeral\" (only the asker sees the answer) or \"in_channel\"",
                    crate::slack::blocks::truncate(other, 64)
                ),
            ));
            ResponseType::Ephemeral
        }
    };
    let test_response_origin = raw
        .test_response_origin
        .map(|o| match check_test_origin(&o) {
            Ok(origin) => origin,
            Err(m) => {
                problems.push(Problem::new("chat.testResponseOrigin", m));
                o
            }
        });
    ChatSpec {
        listen,
        signing_secret_file,
        allowed_channels,
        allowed_users,
        collection_interval,
        response_type,
        test_response_origin,
    }
}

/// The test-only origin must be `http(s)://<loopback IP literal>:<port>` and
/// nothing else (no path, no user, no host name that could resolve elsewhere).
/// Returns the origin as URLs serialize it (`http://127.0.0.1:8094`).
fn check_test_origin(o: &str) -> Result<String, String> {
    let refuse = || {
        Err(format!(
            "{:?} is refused: this test-only key admits a loopback origin such as \"http://127.0.0.1:8094\" and nothing else; production answers go to https://hooks.slack.com only",
            crate::slack::blocks::truncate(o, 100)
        ))
    };
    let Ok(u) = reqwest::Url::parse(o) else {
        return refuse();
    };
    let loopback = u
        .host_str()
        .and_then(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .ok()
        })
        .is_some_and(|a| a.is_loopback());
    if !matches!(u.scheme(), "http" | "https")
        || !loopback
        || u.port().is_none()
        || !u.username().is_empty()
        || u.password().is_some()
        || !matches!(u.path(), "" | "/")
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return refuse();
    }
    Ok(u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests;
