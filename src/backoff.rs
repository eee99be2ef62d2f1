//! Exponential backoff with jitter, capped: the one copy. Every failure path
//! (the daemon's login, renewal and reads; Slack deliveries) waits through it,
//! so nothing ever retries in a tight loop.

use std::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub(crate) const fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap,
            failures: 0,
        }
    }

    /// The daemon's default for talking to Vault: 1s, 2s, 4s ... capped at 5 minutes.
    pub(crate) const fn vault() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(300))
    }

    /// The ceiling of the next delay: base * 2^failures, at most `cap`.
    pub(crate) fn ceiling(&self) -> Duration {
        Backoff::ceiling_after(self.base, self.cap, self.failures)
    }

    /// `base * 2^failures`, at most `cap` (never overflows).
    pub(crate) fn ceiling_after(base: Duration, cap: Duration, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(30)).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(cap)
    }

    /// Records a failure and returns how long to wait: uniform in
    /// [ceiling/2, ceiling] ("equal jitter": never shorter than half the ceiling,
    /// so retries stay spaced even with bad luck). `unit` is a random number in [0, 1).
    pub(crate) fn fail(&mut self, unit: f64) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let unit = unit.clamp(0.0, 1.0);
        ceiling / 2 + ceiling.mul_f64(0.5 * unit)
    }

    /// Records a failure with thread-local randomness.
    pub(crate) fn fail_random(&mut self) -> Duration {
        self.fail(rand::random::<f64>())
    }

    pub(crate) fn succeed(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::vault();
        let lows: Vec<u64> = (0..12).map(|_| b.fail(0.0).as_millis() as u64).collect();
        assert_eq!(
            lows,
            [500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 150000, 150000, 150000]
        );
        let mut b = Backoff::vault();
        let highs: Vec<u64> = (0..12).map(|_| b.fail(1.0).as_secs()).collect();
        assert_eq!(highs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        // a thousand failures in a row never overflow and never exceed the cap
        let mut b = Backoff::vault();
        for _ in 0..1000 {
            let d = b.fail_random();
            assert!(d <= Duration::from_secs(300));
            assert!(d >= Duration::from_millis(500));
        }
        b.succeed();
        assert_eq!(b.fail(1.0), Duration::from_secs(1));
    }

    /// The OpenBao Agent bug this guards against: after a 403 it retried renew-self
    /// 1,700 times a second. Here, an hour of nothing but failures, driven by
    /// tokio's paused clock, makes a bounded number of attempts.
    #[tokio::test(start_paused = true)]
    async fn an_hour_of_failures_is_a_handful_of_attempts() {
        let start = tokio::time::Instant::now();
        let mut b = Backoff::vault();
        let mut attempts = 0;
        while start.elapsed() < Duration::from_secs(3600) {
            attempts += 1;
            let d = b.fail(0.0); // worst case: the shortest delays
            tokio::time::sleep(d).await;
        }
        // 0.5+1+2+...+128 = 255.5s in 9 attempts, then one every 150s at worst.
        assert_eq!(attempts, 9 + ((3600.0 - 255.5) / 150.0_f64).ceil() as i32);
        assert!(attempts < 40);
    }
}
