use super::*;
use crate::clock::{coarse_words, parse_rfc3339_secs, rfc3339_secs};

#[test]
fn times_and_durations() {
    assert_eq!(parse_rfc3339_secs("1970-01-02T00:00:00Z"), Some(86400));
    assert_eq!(
        parse_rfc3339_secs("2026-11-22T08:54:15.940040815Z"),
        Some(1795337655)
    );
    assert_eq!(parse_rfc3339_secs("not a time"), None);
    assert_eq!(coarse_words(0), "0s");
    assert_eq!(coarse_words(90061), "1d 1h");
    assert_eq!(coarse_words(3600), "1h");
    assert_eq!(coarse_words(59), "59s");
    assert_eq!(rfc3339_secs(86400), "1970-01-02T00:00:00Z");
}

#[test]
fn env_token_prefers_bao() {
    let env = |k: &str| match k {
        "BAO_TOKEN" => Some("b".to_string()),
        "VAULT_TOKEN" => Some("v".to_string()),
        _ => None,
    };
    assert_eq!(env_token(&env).unwrap().expose(), "b");
    assert!(env_token(&|_: &str| Some(" ".to_string())).is_none());
}
