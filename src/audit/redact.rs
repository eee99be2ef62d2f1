//! Redaction of secrets that reach alerts in clear. The audit device HMACs
//! tokens and data values but not request paths, so `auth/token/lookup/<token>`
//! or `sys/leases/revoke/<lease id>` carry secrets verbatim. Before an alert is
//! logged, queued for Slack or printed by `audit replay`, every text field goes
//! through [`redact`]:
//!
//! - anything shaped like a Vault or OpenBao token: `hvs.`, `hvb.`, `hvr.`
//!   (Vault 1.10+), `s.`, `b.`, `r.` (older Vault and OpenBao) followed by 20
//!   or more token characters;
//! - in a path, the segment after the token API's `lookup`, `revoke`, `renew`,
//!   `revoke-orphan` and `*-accessor` endpoints, whatever it looks like (a
//!   token id can be anything, `-id=root` included);
//! - in a path, after any of those words (and `accessor`, `revoke-force`,
//!   `revoke-prefix`, `unwrap`...), every random-looking segment: 16+ token
//!   characters with both letters and digits (lease ids, accessors).

use std::borrow::Cow;

pub(crate) const REDACTED: &str = "<redacted>";

const TOKEN_PREFIXES: &[&str] = &["hvs.", "hvb.", "hvr.", "s.", "b.", "r."];
const MIN_TOKEN_BODY: usize = 20;

/// Path words after which segments may be secrets.
const KEYWORDS: &[&str] = &[
    "lookup",
    "lookup-accessor",
    "lookup-self",
    "revoke",
    "revoke-accessor",
    "revoke-orphan",
    "revoke-force",
    "revoke-prefix",
    "revoke-self",
    "renew",
    "renew-accessor",
    "renew-self",
    "accessor",
    "accessors",
    "unwrap",
    "rewrap",
];

/// Token API endpoints whose next segment is a token or an accessor.
const TOKEN_ENDPOINTS: &[&str] = &[
    "lookup",
    "lookup-accessor",
    "revoke",
    "revoke-accessor",
    "revoke-orphan",
    "renew",
    "renew-accessor",
];

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The text with secrets replaced by `<redacted>`.
pub(crate) fn redact(s: &str) -> Cow<'_, str> {
    let a = redact_tokens(s);
    match redact_paths(&a) {
        Cow::Borrowed(_) => a,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

pub(crate) fn redact_in_place(s: &mut String) {
    if let Cow::Owned(o) = redact(s) {
        *s = o;
    }
}

fn redact_tokens(s: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !token_char(s[..i].chars().next_back().unwrap_or(' '));
        if boundary {
            if let Some(p) = TOKEN_PREFIXES.iter().find(|p| s[i..].starts_with(**p)) {
                let body = s[i + p.len()..]
                    .find(|c: char| !token_char(c))
                    .unwrap_or(s.len() - i - p.len());
                if body >= MIN_TOKEN_BODY {
                    out.push_str(&s[copied..i]);
                    out.push_str(REDACTED);
                    i += p.len() + body;
                    copied = i;
                    continue;
                }
            }
        }
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

fn random_looking(seg: &str) -> bool {
    seg.len() >= 16
        && seg
            .chars()
            .all(|c| token_char(c) || matches!(c, '.' | '+' | '='))
        && seg.chars().any(|c| c.is_ascii_digit())
        && seg.chars().any(|c| c.is_ascii_alphabetic())
}

fn redact_paths(s: &str) -> Cow<'_, str> {
    if !s.contains('/') {
        return Cow::Borrowed(s);
    }
    let mut changed = false;
    let mut out = String::with_capacity(s.len());
    // Words: whitespace-separated; each may be a path.
    let mut rest = s;
    while !rest.is_empty() {
        let ws = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if !word.contains('/') {
            out.push_str(word);
            continue;
        }
        let segs: Vec<&str> = word.split('/').collect();
        let mut after_keyword = false;
        let mut token_next = false;
        for (i, seg) in segs.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            let secret = !seg.is_empty() && (token_next || (after_keyword && random_looking(seg)));
            token_next = false;
            if secret {
                // keep trailing punctuation of prose ("…/lookup/x)." )
                let core = seg.trim_end_matches([')', ',', '.', ';', ':', '"', '\'']);
                out.push_str(REDACTED);
                out.push_str(&seg[core.len()..]);
                changed = true;
                continue;
            }
            out.push_str(seg);
            if KEYWORDS.contains(seg) {
                after_keyword = true;
                token_next = TOKEN_ENDPOINTS.contains(seg) && i > 0 && segs[i - 1] == "token";
            }
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests;
