//! When to renew the Vault token and when to log in again: pure decisions on the
//! lease Vault granted, tested without Vault.
//!
//! - After a login or a renewal granting a lease `L`, renew at `2/3 L`.
//! - A renewal that comes back at most half as long as the login's lease means
//!   the token's max TTL is near (Vault caps renewals there): log in again at
//!   `2/3 L` instead of renewing a token that is about to die. A renewal granting
//!   0 s means the token is at its end: log in at once.
//! - A non-renewable token is replaced by a new login at `2/3 L`.
//! - A lease of 0 never expires (e.g. a root token in tests): nothing to do.
//! - Refused renewal → log in now; any failure → the caller backs off (see
//!   [`crate::backoff`]).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    Renew,
    Login,
}

/// What to do next with the daemon's token, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The token never expires.
    Never,
    /// Do `action` after this delay.
    After(Duration, TokenAction),
}

/// A renewal at most this fraction of the login's lease means the max TTL is near.
const MAX_TTL_NEAR: f64 = 0.5;

/// 2/3 of a lease (never less than 100 ms).
pub(crate) fn two_thirds(lease: Duration) -> Duration {
    (lease * 2 / 3).max(Duration::from_millis(100))
}

/// What to do after a successful login granting `lease`.
pub fn after_login(lease: Duration, renewable: bool) -> Plan {
    if lease.is_zero() {
        return Plan::Never;
    }
    let action = if renewable {
        TokenAction::Renew
    } else {
        TokenAction::Login
    };
    Plan::After(two_thirds(lease), action)
}

/// What to do after a successful renewal granting `lease`, for a token whose
/// login granted `login_lease`.
pub fn after_renewal(lease: Duration, renewable: bool, login_lease: Duration) -> Plan {
    if lease.is_zero() {
        return Plan::After(Duration::ZERO, TokenAction::Login);
    }
    let capped = lease.as_secs_f64() <= login_lease.as_secs_f64() * MAX_TTL_NEAR;
    if capped || !renewable {
        Plan::After(two_thirds(lease), TokenAction::Login)
    } else {
        Plan::After(two_thirds(lease), TokenAction::Renew)
    }
}

/// After a renewal failed because Vault could not be reached: retry renewing
/// after `backoff`, unless the token dies first, then log in once it has.
pub(crate) fn after_unreachable_renewal(backoff: Duration, remaining: Duration) -> Plan {
    if backoff < remaining {
        Plan::After(backoff, TokenAction::Renew)
    } else {
        Plan::After(backoff, TokenAction::Login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const H: u64 = 3600;

    #[test]
    fn renews_at_two_thirds_of_the_lease() {
        assert_eq!(
            after_login(Duration::from_secs(H), true),
            Plan::After(Duration::from_secs(2400), TokenAction::Renew)
        );
        assert_eq!(
            after_login(Duration::from_secs(90), false),
            Plan::After(Duration::from_secs(60), TokenAction::Login)
        );
        assert_eq!(after_login(Duration::ZERO, true), Plan::Never);
        assert_eq!(
            two_thirds(Duration::from_millis(300)),
            Duration::from_millis(200)
        );
        assert_eq!(
            two_thirds(Duration::from_millis(30)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn logs_in_again_when_the_max_ttl_caps_the_renewal() {
        let login = Duration::from_secs(H);
        assert_eq!(
            after_renewal(Duration::from_secs(H), true, login),
            Plan::After(Duration::from_secs(2400), TokenAction::Renew)
        );
        // 40 minutes left of the max TTL: renew once more
        assert_eq!(
            after_renewal(Duration::from_secs(2400), true, login),
            Plan::After(Duration::from_secs(1600), TokenAction::Renew)
        );
        // 30 minutes left (half the lease): log in again at 2/3 of them
        assert_eq!(
            after_renewal(Duration::from_secs(1800), true, login),
            Plan::After(Duration::from_secs(1200), TokenAction::Login)
        );
        // Vault granted nothing: the token is at its end
        assert_eq!(
            after_renewal(Duration::ZERO, true, login),
            Plan::After(Duration::ZERO, TokenAction::Login)
        );
        assert_eq!(
            after_renewal(Duration::from_secs(H), false, login),
            Plan::After(Duration::from_secs(2400), TokenAction::Login)
        );
    }

    #[test]
    fn an_unreachable_vault_is_retried_until_the_token_dies() {
        assert_eq!(
            after_unreachable_renewal(Duration::from_secs(8), Duration::from_secs(100)),
            Plan::After(Duration::from_secs(8), TokenAction::Renew)
        );
        assert_eq!(
            after_unreachable_renewal(Duration::from_secs(8), Duration::from_secs(5)),
            Plan::After(Duration::from_secs(8), TokenAction::Login)
        );
    }

    /// A whole token life with tokio's paused clock: login (1h lease, 3h max TTL),
    /// renewals every 40 minutes, Vault capping the lease as the max TTL nears, a
    /// new login before the token dies.
    #[tokio::test(start_paused = true)]
    async fn a_token_life_on_the_paused_clock() {
        use tokio::time::Instant;
        let start = Instant::now();
        let max_ttl = Duration::from_secs(3 * H);
        let login_lease = Duration::from_secs(H);
        let mut expires = start + login_lease;
        let mut plan = after_login(login_lease, true);
        let mut log = Vec::new();
        loop {
            let Plan::After(d, action) = plan else {
                panic!("never")
            };
            tokio::time::sleep(d).await;
            let now = Instant::now();
            assert!(now < expires, "the token expired before {action:?}");
            log.push(((now - start).as_secs() / 60, action));
            if action == TokenAction::Login {
                break;
            }
            // Vault grants the full hour or what is left of the max TTL.
            let left = max_ttl.saturating_sub(now - start);
            let lease = login_lease.min(left);
            expires = now + lease;
            plan = after_renewal(lease, true, login_lease);
        }
        assert_eq!(
            log,
            [
                (40, TokenAction::Renew),
                (80, TokenAction::Renew),
                (120, TokenAction::Renew),
                (160, TokenAction::Renew),
                // 20 minutes were left: a new login at 2/3 of them, before the
                // token dies at 180
                (173, TokenAction::Login)
            ]
        );
    }
}
