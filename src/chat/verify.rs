//! Request verification exactly as Slack documents it ("Verifying requests
//! from Slack"): `X-Slack-Signature` is `v0=` followed by the hex HMAC-SHA256,
//! keyed with the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw
//! body}`. The comparison is constant-time (`hmac`'s `verify_slice`, built on
//! `subtle`). A timestamp more than [`MAX_SKEW`] away from now is refused, and
//! so is a signature already accepted within that window ([`ReplayGuard`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;

/// Slack's documented window: five minutes either way.
pub(crate) const MAX_SKEW: u64 = 300;
/// Signatures remembered at most (each 32 bytes and a time); a genuine Slack
/// workspace sends far fewer commands than this in ten minutes.
pub(crate) const REPLAY_CAPACITY: usize = 20_000;

/// Why a request was refused. Only the logs see these words; the client gets
/// a bare status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    MissingHeaders,
    BadTimestamp,
    StaleTimestamp,
    BadSignature,
    Replayed,
    /// The replay memory is full of signatures still inside the window.
    ReplayMemoryFull,
}

impl Refusal {
    pub(crate) fn words(self) -> &'static str {
        match self {
            Refusal::MissingHeaders => "no X-Slack-Signature or X-Slack-Request-Timestamp header",
            Refusal::BadTimestamp => "X-Slack-Request-Timestamp is not a Unix time",
            Refusal::StaleTimestamp => "the timestamp is more than 5 minutes away from now",
            Refusal::BadSignature => "the signature does not match the signing secret",
            Refusal::Replayed => "this signature was already used (a replay)",
            Refusal::ReplayMemoryFull => {
                "too many commands within 5 minutes to remember them all (replay protection)"
            }
        }
    }
}

/// Parses the timestamp header: 1 to 12 ASCII digits.
pub(crate) fn parse_timestamp(ts: &str) -> Result<u64, Refusal> {
    if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::BadTimestamp);
    }
    ts.parse().map_err(|_| Refusal::BadTimestamp)
}

/// Parses `v0=<64 hex digits>`.
pub(crate) fn parse_signature(sig: &str) -> Result<[u8; 32], Refusal> {
    let hex_part = sig.strip_prefix("v0=").ok_or(Refusal::BadSignature)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| Refusal::BadSignature)?;
    Ok(out)
}

/// The signature Slack would send (used by tests and the documentation example).
#[cfg(test)]
pub(crate) fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks timestamp and signature; returns the timestamp and the signature
/// bytes (for the replay guard). `now` is Unix seconds.
pub(crate) fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: u64,
) -> Result<(u64, [u8; 32]), Refusal> {
    let ts = parse_timestamp(timestamp)?;
    if ts.abs_diff(now) > MAX_SKEW {
        return Err(Refusal::StaleTimestamp);
    }
    let sig = parse_signature(signature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| Refusal::BadSignature)?;
    Ok((ts, sig))
}

/// Signatures accepted within the window. Only verified signatures enter it,
/// so a flood of forged requests cannot fill it.
#[derive(Default)]
pub(crate) struct ReplayGuard {
    seen: Mutex<HashMap<[u8; 32], u64>>,
}

impl ReplayGuard {
    /// Records `sig` (timestamp `ts`) or refuses it when it was seen before.
    pub(crate) fn check(&self, sig: [u8; 32], ts: u64, now: u64) -> Result<(), Refusal> {
        self.check_with_capacity(sig, ts, now, REPLAY_CAPACITY)
    }

    fn check_with_capacity(
        &self,
        sig: [u8; 32],
        ts: u64,
        now: u64,
        capacity: usize,
    ) -> Result<(), Refusal> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains_key(&sig) {
            return Err(Refusal::Replayed);
        }
        if seen.len() >= capacity {
            // A signature whose timestamp left the window is refused as stale anyway.
            seen.retain(|_, t| t.saturating_add(MAX_SKEW) >= now);
            if seen.len() >= capacity {
                return Err(Refusal::ReplayMemoryFull);
            }
        }
        seen.insert(sig, ts);
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests;
