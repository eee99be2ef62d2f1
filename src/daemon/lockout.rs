//! Login retries that never trip Vault's AppRole lockout. OpenBao and Vault lock
//! an AppRole role-id out after 5 failed logins in 15 minutes (for 15 minutes);
//! a host retrying at 0, 1, 3, 5 s locked itself out, and then refused a fresh,
//! valid secret-id until an admin unlocked it.
//!
//! After a first rejected login the next attempt comes after 10 s (a server that
//! has just restarted may not know the role yet), then `window / maxFailures`
//! apart (5 min by default), so at most `maxFailures` (3) rejected logins fall in
//! any `window` (15 min); after `maxFailures` rejections in a row, once every
//! `retryInterval` (1 h). Jitter only lengthens (0-10 %). A change of the credential files is
//! worth one immediate attempt, allowed while the window holds at most
//! `maxFailures` rejections (so never more than `maxFailures + 1` < 5).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// The quick second try after a first rejection.
const FIRST_RETRY: Duration = Duration::from_secs(10);

use crate::spec::LoginBackoff;

/// The rejected logins of the current failing streak.
#[derive(Debug)]
pub(crate) struct LoginFailures {
    policy: LoginBackoff,
    recent: VecDeque<Instant>,
    streak: u32,
    /// Wall-clock start of the streak and Vault's last reason.
    pub failing: Option<(SystemTime, String)>,
}

impl LoginFailures {
    pub(crate) fn new(policy: LoginBackoff) -> LoginFailures {
        LoginFailures {
            policy,
            recent: VecDeque::new(),
            streak: 0,
            failing: None,
        }
    }

    /// A reload changed `approle.loginBackoff`: the new policy applies from
    /// the next rejected login on (the failures seen so far still count).
    pub(crate) fn set_policy(&mut self, policy: LoginBackoff) {
        self.policy = policy;
    }

    fn trim(&mut self, now: Instant) {
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.policy.window)
        {
            self.recent.pop_front();
        }
    }

    /// Vault rejected a login now, saying `reason`: how long until the next try.
    pub(crate) fn rejected(&mut self, reason: &str, unit: f64) -> Duration {
        let now = Instant::now();
        self.trim(now);
        self.recent.push_back(now);
        self.streak = self.streak.saturating_add(1);
        match &mut self.failing {
            Some((_, r)) => *r = reason.to_string(),
            None => self.failing = Some((SystemTime::now(), reason.to_string())),
        }
        let base = if self.streak == 1 && self.policy.max_failures > 1 {
            FIRST_RETRY.min(self.policy.window / self.policy.max_failures)
        } else if self.streak < self.policy.max_failures {
            self.policy.window / self.policy.max_failures.max(1)
        } else {
            self.policy.retry_interval
        };
        base.mul_f64(1.0 + 0.1 * unit.clamp(0.0, 1.0))
    }

    pub(crate) fn succeeded(&mut self) {
        self.recent.clear();
        self.streak = 0;
        self.failing = None;
    }

    /// May a credential change be tried at once (see the module doc)?
    pub(crate) fn may_try_now(&mut self) -> bool {
        self.trim(Instant::now());
        (self.recent.len() as u32) <= self.policy.max_failures
    }

    /// Rejections within the window now.
    pub(crate) fn in_window(&mut self) -> usize {
        self.trim(Instant::now());
        self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two days of a destroyed secret-id on tokio's paused clock: never more than
    /// 3 rejections in any 15 minutes, then one an hour.
    #[tokio::test(start_paused = true)]
    async fn never_more_than_three_rejections_in_fifteen_minutes() {
        for unit in [0.0, 0.5, 1.0] {
            let mut f = LoginFailures::new(LoginBackoff::default());
            let start = Instant::now();
            let mut at = Vec::new();
            while start.elapsed() < Duration::from_secs(2 * 86400) {
                at.push(start.elapsed());
                let wait = f.rejected("invalid secret id", unit);
                tokio::time::sleep(wait).await;
            }
            for (i, t) in at.iter().enumerate() {
                let in_window = at[i..]
                    .iter()
                    .take_while(|u| **u - *t < Duration::from_secs(900))
                    .count();
                assert!(in_window <= 3, "{in_window} in 15 min from {t:?}: {at:?}");
            }
            if unit == 0.0 {
                let secs: Vec<u64> = at.iter().take(5).map(|d| d.as_secs()).collect();
                assert_eq!(secs, [0, 10, 310, 3910, 7510]);
            }
            assert!(at.len() <= 3 + 48, "{} attempts", at.len());
            assert!(f.failing.as_ref().unwrap().1 == "invalid secret id");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_credential_change_may_try_once_without_reaching_the_lockout() {
        let mut f = LoginFailures::new(LoginBackoff::default());
        for _ in 0..3 {
            assert!(f.may_try_now());
            f.rejected("invalid secret id", 0.0);
        }
        // 3 in the window: one more (the 4th, OpenBao locks at 5) is allowed...
        assert!(f.may_try_now());
        f.rejected("invalid secret id", 0.0);
        // ...and not a 5th.
        assert!(!f.may_try_now());
        tokio::time::sleep(Duration::from_secs(901)).await;
        assert!(f.may_try_now());
        f.succeeded();
        assert!(f.failing.is_none());
        assert_eq!(f.in_window(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_schedule_is_tunable() {
        let mut f = LoginFailures::new(LoginBackoff {
            max_failures: 2,
            window: Duration::from_secs(60),
            retry_interval: Duration::from_secs(600),
        });
        assert_eq!(f.rejected("x", 0.0), Duration::from_secs(10));
        assert_eq!(f.rejected("x", 0.0), Duration::from_secs(600));
        assert_eq!(f.rejected("x", 1.0), Duration::from_secs(660));
        let mut one = LoginFailures::new(LoginBackoff {
            max_failures: 1,
            window: Duration::from_secs(60),
            retry_interval: Duration::from_secs(600),
        });
        assert_eq!(one.rejected("x", 0.0), Duration::from_secs(600));
    }
}
