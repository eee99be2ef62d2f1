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
pub const MAX_SKEW: u64 = 300;
/// Signatures remembered at most (each 32 bytes and a time); a genuine Slack
/// workspace sends far fewer commands than this in ten minutes.
pub const REPLAY_CAPACITY: usize = 20_000;

/// Why a request was refused. Only the logs see these words; the client gets
/// a bare status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MissingHeaders,
    BadTimestamp,
    StaleTimestamp,
    BadSignature,
    Replayed,
    /// The replay memory is full of signatures still inside the window.
    ReplayMemoryFull,
}

impl Refusal {
    pub fn words(self) -> &'static str {
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
pub fn parse_timestamp(ts: &str) -> Result<u64, Refusal> {
    if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::BadTimestamp);
    }
    ts.parse().map_err(|_| Refusal::BadTimestamp)
}

/// Parses `v0=<64 hex digits>`.
pub fn parse_signature(sig: &str) -> Result<[u8; 32], Refusal> {
    let hex_part = sig.strip_prefix("v0=").ok_or(Refusal::BadSignature)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| Refusal::BadSignature)?;
    Ok(out)
}

/// The signature Slack would send (used by tests and the documentation example).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks timestamp and signature; returns the timestamp and the signature
/// bytes (for the replay guard). `now` is Unix seconds.
pub fn verify(
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
pub struct ReplayGuard {
    seen: Mutex<HashMap<[u8; 32], u64>>,
}

impl ReplayGuard {
    /// Records `sig` (timestamp `ts`) or refuses it when it was seen before.
    pub fn check(&self, sig: [u8; 32], ts: u64, now: u64) -> Result<(), Refusal> {
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

    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Slack's documentation ("Verifying requests from Slack").
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()), SIG);
        let now = 1531420618 + 10;
        let (ts, _) = verify(SECRET, TS, SIG, BODY.as_bytes(), now).unwrap();
        assert_eq!(ts, 1531420618);
    }

    #[test]
    fn any_change_is_refused() {
        let now = 1531420618;
        let body = BODY.as_bytes();
        assert_eq!(
            verify(b"another-secret", TS, SIG, body, now),
            Err(Refusal::BadSignature)
        );
        let mut tampered = BODY.to_string();
        tampered.push('x');
        assert_eq!(
            verify(SECRET, TS, SIG, tampered.as_bytes(), now),
            Err(Refusal::BadSignature)
        );
        // Same instant, written differently: the signature covers the text.
        assert_eq!(
            verify(SECRET, "01531420618", SIG, body, now),
            Err(Refusal::BadSignature)
        );
        let upper = SIG.to_uppercase().replace("V0=", "v0=");
        assert!(verify(SECRET, TS, &upper, body, now).is_ok(), "hex is hex");
        for bad in ["", "v0=", "v1=a2114d57", "v0=zz", &SIG[..SIG.len() - 1]] {
            assert_eq!(
                verify(SECRET, TS, bad, body, now),
                Err(Refusal::BadSignature),
                "{bad}"
            );
        }
        for bad in ["", "-1", "1e9", "9999999999999", " 1531420618"] {
            assert_eq!(
                verify(SECRET, bad, SIG, body, now),
                Err(Refusal::BadTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn five_minutes_either_way() {
        let body = BODY.as_bytes();
        let t = 1531420618;
        assert!(verify(SECRET, TS, SIG, body, t + 300).is_ok());
        assert!(verify(SECRET, TS, SIG, body, t - 300).is_ok());
        assert_eq!(
            verify(SECRET, TS, SIG, body, t + 301),
            Err(Refusal::StaleTimestamp)
        );
        assert_eq!(
            verify(SECRET, TS, SIG, body, t - 301),
            Err(Refusal::StaleTimestamp)
        );
    }

    #[test]
    fn a_signature_counts_once_and_memory_is_bounded() {
        let g = ReplayGuard::default();
        let s = |n: u8| [n; 32];
        assert_eq!(g.check_with_capacity(s(1), 1000, 1000, 2), Ok(()));
        assert_eq!(
            g.check_with_capacity(s(1), 1000, 1001, 2),
            Err(Refusal::Replayed)
        );
        assert_eq!(g.check_with_capacity(s(2), 1100, 1100, 2), Ok(()));
        // Full, and both still inside the window.
        assert_eq!(
            g.check_with_capacity(s(3), 1200, 1200, 2),
            Err(Refusal::ReplayMemoryFull)
        );
        // Later the first has left the window and makes room.
        assert_eq!(g.check_with_capacity(s(3), 1301, 1301, 2), Ok(()));
        assert_eq!(g.len(), 2);
    }
}
