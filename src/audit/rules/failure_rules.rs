//! The built-in rules about failed requests: invalid wrapping tokens (possible
//! theft), failed logins over a threshold, lockouts. Each failure counts once
//! (request and response lines both carry it).

use super::classify::is_login;
use super::context::Ctx;
use super::hit::Hit;

/// The error of a failed request seen for the first time (request and
/// response lines both carry it).
fn first_failure<'a>(c: &mut Ctx<'a, '_>) -> Option<&'a str> {
    let err = c.e.error()?;
    c.memory.first_failure(c.e.request_id()).then_some(err)
}

/// A used or bogus wrapping token (possible theft).
pub(super) fn wrapping_token_invalid(c: &mut Ctx<'_, '_>) {
    if !c.sys.is_some_and(|p| p.starts_with("wrapping/unwrap")) {
        return;
    }
    if let Some(err) = first_failure(c) {
        c.hit(
            "wrapping-token-invalid",
            Hit::new(
                "unwrap of an invalid or already-used wrapping token",
                Some(format!("error: {err}; if this was a bootstrap token, it may have been stolen and used by someone else")),
            ),
        );
    }
}

/// Failed logins (threshold within the window, per path, role and address) and lockouts.
pub(super) fn login_failures(c: &mut Ctx<'_, '_>) {
    if !is_login(c.path) {
        return;
    }
    let Some(err) = first_failure(c) else {
        return;
    };
    let path = c.path;
    let remote = c.e.remote_address();
    if err.contains("locked") {
        let hit = Hit::new(
            format!("login locked out at {path}"),
            Some(format!("error: {err}")),
        );
        c.hit(
            "login-failures",
            hit.keyed(format!("lockout|{path}|{remote}")),
        );
        return;
    }
    let role =
        c.e.request_field("role_id")
            .or_else(|| c.e.request_field("role"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
    let key = format!("{path}|{role}|{remote}");
    let rule = c.spec.rule("login-failures");
    let (threshold, window) = (rule.count as usize, rule.window);
    let n = c
        .memory
        .login_failure(key.clone(), c.now, window.as_millis() as i64);
    if n >= threshold {
        let window = crate::clock::duration_words(window);
        let role = if role.is_empty() {
            String::new()
        } else {
            format!("; role {role}")
        };
        let mut hit = Hit::new(
            format!("{n} failed logins at {path} from {remote} within {window}"),
            Some(format!("last error: {err}{role}")),
        )
        .keyed(key);
        hit.count = n as u64;
        c.hit("login-failures", hit);
    }
}
