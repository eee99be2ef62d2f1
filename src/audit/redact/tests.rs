//! Unit tests of redact.rs.

use super::*;

#[test]
fn tokens_of_every_spelling_are_redacted() {
    for t in [
        "hvs.CAESIJ1x2y3z4a5b6c7d8e9f0gHhIiJjKkLlMm",
        "hvb.AAAAAQJx2y3z4a5b6c7d8e9f0gHhIiJjKkLlMm",
        "hvr.x2y3z4a5b6c7d8e9f0gHh",
        "s.1a2b3c4d5e6f7g8h9i0jKLMN",
        "b.AAAAAQKx2y3z4a5b6c7d8e9f0gHhIiJj",
        "r.x2y3z4a5b6c7d8e9f0gHhJ",
    ] {
        let text = format!("token {t} used; again:{t}.");
        assert_eq!(
            redact(&text),
            "token <redacted> used; again:<redacted>.",
            "{t}"
        );
    }
    // Not tokens: short, or part of a word.
    for keep in ["s.short", "vars.abcdefghijklmnopqrstuvwxyz", "file.txt"] {
        assert_eq!(redact(keep), keep);
    }
}

#[test]
fn secret_path_segments_are_redacted() {
    let cases = [
        (
            "auth/token/lookup/s.1a2b3c4d5e6f7g8h9i0jKLMN",
            "auth/token/lookup/<redacted>",
        ),
        ("auth/token/lookup/root", "auth/token/lookup/<redacted>"),
        (
            "auth/token/revoke-accessor/Zq8mP2kL9xV4nB7cR1tY6wE3",
            "auth/token/revoke-accessor/<redacted>",
        ),
        (
            "root token used: update auth/token/renew/abc",
            "root token used: update auth/token/renew/<redacted>",
        ),
        (
            "sys/leases/revoke/database/creds/ro/Zq8mP2kL9xV4nB7cR1tY6wE3",
            "sys/leases/revoke/database/creds/ro/<redacted>",
        ),
        (
            "sys/leases/revoke-prefix/aws/creds",
            "sys/leases/revoke-prefix/aws/creds",
        ),
        ("auth/token/lookup-self", "auth/token/lookup-self"),
        (
            "secret/data/prod/db-password-2023",
            "secret/data/prod/db-password-2023",
        ),
        (
            "sys/policies/acl/app-reader-20231105x",
            "sys/policies/acl/app-reader-20231105x",
        ),
        (
            "policy sys/policy/ops written",
            "policy sys/policy/ops written",
        ),
    ];
    for (a, b) in cases {
        assert_eq!(redact(a), b, "{a}");
    }
}
