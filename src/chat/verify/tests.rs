//! Unit tests of verify.rs.

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
