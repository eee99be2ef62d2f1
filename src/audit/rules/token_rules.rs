//! The built-in rules about tokens: root tokens used or created, tokens that
//! never expire or live long, orphan tokens.

use super::classify::{orphan, periodic};
use super::context::Ctx;
use super::hit::Hit;
use crate::audit::entry::Auth;

/// Every request a root token makes, per accessor.
pub(super) fn root_token_used(c: &mut Ctx<'_, '_>) {
    if !(c.e.is_request() && c.e.caller_is_root()) {
        return;
    }
    let a = c.e.auth.as_ref();
    let key = a
        .and_then(|a| a.accessor.as_deref().or(a.display_name.as_deref()))
        .unwrap_or("")
        .to_string();
    let title = format!("root token used: {} {}", c.op, c.path);
    c.hit("root-token-used", Hit::new(title, None).keyed(key));
}

/// The first request with a root token from each remote address.
pub(super) fn root_token_new_address(c: &mut Ctx<'_, '_>) {
    if !(c.e.is_request() && c.e.caller_is_root()) {
        return;
    }
    let remote = c.e.remote_address();
    if !remote.is_empty() && c.memory.first_root_address(remote) {
        let detail = format!(
            "first request with a root token from {remote} since the agent started: {} {}",
            c.op, c.path
        );
        let title = format!("root token used from a new address: {remote}");
        c.hit("root-token-new-address", Hit::new(title, Some(detail)));
    }
}

/// The token a successful response hands out: (its facts, "name with policies [..]").
fn new_token<'a>(c: &Ctx<'a, '_>) -> Option<(&'a Auth<'a>, String)> {
    if !c.ok_response {
        return None;
    }
    let t = c.e.new_token()?;
    let name = t.display_name.as_deref().unwrap_or("");
    Some((
        t,
        format!(
            "new token {name:?} with policies [{}]",
            t.policies.join(", ")
        ),
    ))
}

fn is_root(t: &Auth<'_>) -> bool {
    t.policies.iter().any(|p| p == "root")
}

pub(super) fn root_token_created(c: &mut Ctx<'_, '_>) {
    if let Some((_, what)) = new_token(c).filter(|(t, _)| is_root(t)) {
        c.hit(
            "root-token-created",
            Hit::new("root token created", Some(what)),
        );
    }
}

/// A non-root token without expiry, periodic, or with a TTL at or above the threshold.
pub(super) fn token_lifetime(c: &mut Ctx<'_, '_>) {
    let Some((t, what)) = new_token(c).filter(|(t, _)| !is_root(t)) else {
        return;
    };
    let ttl = t.token_ttl.unwrap_or(0);
    let threshold = c.spec.rule("token-long-ttl").ttl.as_secs();
    if ttl <= 0 {
        let hit = Hit::new(
            "token created without expiry",
            Some(format!("{what} has no TTL")),
        );
        c.hit("token-no-expiry", hit);
    } else if periodic(c.e) {
        let detail = format!("{what}, period {}", crate::clock::secs_words(ttl));
        let hit = Hit::new("periodic token created (renewable forever)", Some(detail));
        c.hit("token-no-expiry", hit);
    } else if ttl as u64 >= threshold {
        let title = format!(
            "token created with a TTL of {}",
            crate::clock::secs_words(ttl)
        );
        let detail = format!(
            "{what}; threshold {}",
            crate::clock::secs_words(threshold as i64)
        );
        c.hit("token-long-ttl", Hit::new(title, Some(detail)));
    }
}

pub(super) fn orphan_token(c: &mut Ctx<'_, '_>) {
    if let Some((_, what)) = new_token(c).filter(|(t, _)| !is_root(t) && orphan(c.e)) {
        let hit = Hit::new(
            "orphan token created",
            Some(format!("{what} has no parent")),
        );
        c.hit("orphan-token", hit);
    }
}
