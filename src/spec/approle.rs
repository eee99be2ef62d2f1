//! The `approle` section: where the AppRole credentials are, the wrapped
//! token, the role this host must be, and the login backoff.

use super::error::Problem;
use super::fields::{abs_path, duration};
use super::model::{AppRoleSpec, LoginBackoff};
use super::raw;
use std::path::Path;

pub(crate) fn login_backoff(
    problems: &mut Vec<Problem>,
    raw: raw::RawLoginBackoff,
) -> LoginBackoff {
    let d = LoginBackoff::default();
    let at = |k: &str| format!("approle.loginBackoff.{k}");
    let max_failures = raw.max_failures.unwrap_or(d.max_failures);
    if !(1..=100).contains(&max_failures) {
        problems.push(Problem::new(
            at("maxFailures"),
            format!("{max_failures} is not 1..100; keep it under the server's lockout threshold (5 by default), e.g. 3"),
        ));
    }
    let window = duration(problems, &at("window"), raw.window.as_deref(), d.window);
    let retry_interval = duration(
        problems,
        &at("retryInterval"),
        raw.retry_interval.as_deref(),
        d.retry_interval,
    );
    for (k, v) in [("window", window), ("retryInterval", retry_interval)] {
        if v < std::time::Duration::from_secs(1) {
            problems.push(Problem::new(
                at(k),
                "must be at least one second, e.g. \"15m\"",
            ));
        }
    }
    LoginBackoff {
        max_failures: max_failures.clamp(1, 100),
        window,
        retry_interval,
    }
}

/// The `approle` section (default credential files under `state_dir`).
pub(crate) fn resolve_approle(
    a: raw::RawAppRole,
    state_dir: &Path,
    problems: &mut Vec<Problem>,
) -> AppRoleSpec {
    let mount = a.mount.unwrap_or_else(|| "approle".into());
    if mount.is_empty() || mount.starts_with('/') || mount.ends_with('/') {
        problems.push(Problem::new(
            "approle.mount",
            format!("{mount:?} is not a mount path; write e.g. \"approle\""),
        ));
    }
    let role_id_file = match a.role_id_file {
        Some(f) => abs_path(problems, "approle.roleIdFile", &f),
        None => state_dir.join("approle/role-id"),
    };
    let secret_id_file = match a.secret_id_file {
        Some(f) => abs_path(problems, "approle.secretIdFile", &f),
        None => state_dir.join("approle/secret-id"),
    };
    let wrapped_token_env = match a.wrapped_token_env {
        Some(e) if e.is_empty() => None,
        Some(e) => {
            if !e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                problems.push(Problem::new(
                    "approle.wrappedTokenEnv",
                    format!("{e:?} is not an environment variable name"),
                ));
            }
            Some(e)
        }
        None => Some("VAULT_WRAPPED_TOKEN".into()),
    };
    AppRoleSpec {
        mount,
        role_id_file,
        secret_id_file,
        wrapped_token_env,
        wrapped_token_file: a
            .wrapped_token_file
            .map(|f| abs_path(problems, "approle.wrappedTokenFile", &f)),
        role_name: a.role_name.inspect(|r| {
            if let Err(m) = super::fields::check_segment(r) {
                problems.push(Problem::new("approle.roleName", m));
            }
        }),
        login_backoff: login_backoff(problems, a.login_backoff.unwrap_or_default()),
    }
}
