//! The one-line STATUS= the daemon shows in `systemctl status`, built from plain
//! numbers so its wording is tested exactly.

use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StatusInputs {
    pub fresh: usize,
    /// Rendered at boot from the cache Vault confirmed recently, not yet
    /// checked by the daemon.
    pub boot_cache: usize,
    pub from_cache: usize,
    pub failed: usize,
    /// Since when Vault could not be reached, if it cannot now.
    pub vault_down_for: Option<Duration>,
    pub token: TokenStatus,
    /// The next scheduled restart: unit (without `.service`) and time until it.
    pub next_rotation: Option<(String, Duration)>,
    /// "login failing since …: <Vault's reason>" while logins are rejected.
    pub login_failing: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum TokenStatus {
    /// No token: login has not succeeded yet (or failed).
    #[default]
    None,
    Ttl(Duration),
    NoExpiry,
}

/// "47m", "5h", "3d": coarse on purpose (the line is updated when it changes).
pub(crate) fn coarse(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub(crate) fn line(i: &StatusInputs) -> String {
    let mut parts = vec![format!("{} fresh", count(i.fresh, "secret"))];
    if i.boot_cache > 0 {
        parts.push(format!(
            "{} from the boot cache (unconfirmed)",
            i.boot_cache
        ));
    }
    if i.from_cache > 0 {
        let why = match i.vault_down_for {
            Some(d) => format!(" (vault unreachable for {})", coarse(d)),
            None => String::new(),
        };
        parts.push(format!("{} from cache{why}", i.from_cache));
    } else if let Some(d) = i.vault_down_for {
        parts.push(format!("vault unreachable for {}", coarse(d)));
    }
    if i.failed > 0 {
        parts.push(format!("{} failed", i.failed));
    }
    parts.push(match (&i.token, &i.login_failing) {
        (TokenStatus::None, Some(failing)) => failing.clone(),
        (_, Some(failing)) => format!("token ok, {failing}"),
        (TokenStatus::None, None) => "no token (login failing)".to_string(),
        (TokenStatus::Ttl(d), None) => format!("token ttl {}", coarse(*d)),
        (TokenStatus::NoExpiry, None) => "token does not expire".to_string(),
    });
    if let Some((unit, d)) = &i.next_rotation {
        let unit = unit.strip_suffix(".service").unwrap_or(unit);
        parts.push(format!("next rotation: {unit} in {}", coarse(*d)));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_login_is_said_with_its_reason() {
        let failing = "login failing since 2026-11-30T10:00:00Z: invalid role or secret ID";
        let i = StatusInputs {
            from_cache: 2,
            login_failing: Some(failing.into()),
            ..Default::default()
        };
        assert_eq!(
            line(&i),
            format!("0 secrets fresh, 2 from cache, {failing}")
        );
        let i = StatusInputs {
            fresh: 1,
            token: TokenStatus::Ttl(Duration::from_secs(600)),
            login_failing: Some(failing.into()),
            ..Default::default()
        };
        assert_eq!(line(&i), format!("1 secret fresh, token ok, {failing}"));
    }

    #[test]
    fn the_line_says_what_the_issue_asks() {
        let i = StatusInputs {
            fresh: 12,
            boot_cache: 0,
            from_cache: 1,
            failed: 0,
            vault_down_for: Some(Duration::from_secs(190)),
            token: TokenStatus::Ttl(Duration::from_secs(47 * 60 + 30)),
            next_rotation: Some((
                "grafana.service".into(),
                Duration::from_secs(5 * 3600 + 100),
            )),
            login_failing: None,
        };
        assert_eq!(
            line(&i),
            "12 secrets fresh, 1 from cache (vault unreachable for 3m), token ttl 47m, next rotation: grafana in 5h"
        );
        let i = StatusInputs {
            fresh: 9,
            boot_cache: 3,
            token: TokenStatus::Ttl(Duration::from_secs(3599)),
            ..Default::default()
        };
        assert_eq!(
            line(&i),
            "9 secrets fresh, 3 from the boot cache (unconfirmed), token ttl 59m"
        );
        let i = StatusInputs {
            fresh: 1,
            failed: 2,
            ..Default::default()
        };
        assert_eq!(
            line(&i),
            "1 secret fresh, 2 failed, no token (login failing)"
        );
        let i = StatusInputs {
            fresh: 0,
            from_cache: 0,
            vault_down_for: Some(Duration::from_secs(5)),
            token: TokenStatus::NoExpiry,
            ..Default::default()
        };
        assert_eq!(
            line(&i),
            "0 secrets fresh, vault unreachable for 5s, token does not expire"
        );
        assert_eq!(coarse(Duration::from_secs(3 * 86400)), "3d");
        assert_eq!(coarse(Duration::from_secs(47 * 3600)), "47h");
    }
}
