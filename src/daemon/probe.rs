//! While Vault is unreachable the daemon sends ONE request at a time: a
//! `sys/health` probe, with exponential backoff from 1 s up to the shortest
//! refresh interval, then at that interval, each delay stretched by a random
//! 0-25 % (jitter that only lengthens: never more than one probe a second). Secret checks and token
//! actions wait until the probe is answered; then they resume at once. A fleet
//! of hosts so never hammers a Vault that is struggling to come back (100
//! secrets at a 1 s refresh used to make ~115 connections a second).

use crate::vault::{Auth, VaultClient};
use reqwest::Method;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) struct Probe {
    base: Duration,
    cap: Duration,
    failures: u32,
    /// When the next probe goes out; `None` while Vault is up.
    pub next: Option<Instant>,
}

impl Probe {
    /// `cap`: the shortest refresh interval of the spec.
    pub(crate) fn new(cap: Duration) -> Probe {
        Probe {
            base: Duration::from_secs(1),
            cap: cap.max(Duration::from_secs(1)),
            failures: 0,
            next: None,
        }
    }

    /// base·2^failures capped, times 1 + 0.25·unit; counts a failure.
    fn step(&mut self, unit: f64) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(30)).unwrap_or(u32::MAX);
        let ceiling = self.base.saturating_mul(factor).min(self.cap);
        self.failures = self.failures.saturating_add(1);
        ceiling.mul_f64(1.0 + 0.25 * unit.clamp(0.0, 1.0))
    }

    /// Vault went down now: the first probe after the first backoff step.
    pub(crate) fn start(&mut self, unit: f64) {
        if self.next.is_none() {
            self.failures = 0;
            let wait = self.step(unit);
            self.next = Some(Instant::now() + wait);
        }
    }

    /// The probe failed: the next one after the next backoff step.
    pub(crate) fn failed(&mut self, unit: f64) -> Duration {
        let wait = self.step(unit);
        self.next = Some(Instant::now() + wait);
        wait
    }

    pub(crate) fn stop(&mut self) {
        self.next = None;
        self.failures = 0;
    }

    /// A reload changed the shortest refresh interval: the new cap, and a
    /// probe already planned further out than it comes at the cap.
    pub(crate) fn set_cap(&mut self, cap: Duration) {
        self.cap = cap.max(Duration::from_secs(1));
        let latest = Instant::now() + self.cap.mul_f64(1.25);
        if let Some(next) = self.next.as_mut() {
            *next = (*next).min(latest);
        }
    }

    pub(crate) fn due(&self) -> bool {
        self.next.is_some_and(|t| t <= Instant::now())
    }
}

/// `sys/health` answered that this node serves requests (active, standby or
/// performance standby). Sealed, uninitialised or no answer: `Err(reason)`.
pub(crate) async fn health(client: &VaultClient) -> Result<(), String> {
    client
        .call(
            Method::GET,
            "sys/health?standbyok=true&perfstandbyok=true",
            None,
            Auth::None,
            None,
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reload from a 1 h refresh to 10 s during an outage: the probe planned
    /// an hour out comes within the new cap, and later ones stay under it.
    #[tokio::test(start_paused = true)]
    async fn a_reload_lowers_the_cap_of_a_running_outage() {
        let mut p = Probe::new(Duration::from_secs(3600));
        p.start(0.0);
        for _ in 0..20 {
            p.failed(1.0);
        }
        let far = p.next.unwrap() - Instant::now();
        assert!(far > Duration::from_secs(3600), "{far:?}");
        p.set_cap(Duration::from_secs(10));
        let near = p.next.unwrap() - Instant::now();
        assert!(near <= Duration::from_millis(12_500), "{near:?}");
        assert!(p.failed(1.0) <= Duration::from_millis(12_500));
        // Raising the cap leaves the planned probe where it is.
        let before = p.next;
        p.set_cap(Duration::from_secs(3600));
        assert_eq!(p.next, before);
    }

    /// A minute-long outage on tokio's paused clock: probes back off from 1 s to
    /// the cap and never come more often than once a second, whatever the jitter.
    #[tokio::test(start_paused = true)]
    async fn probes_back_off_to_the_refresh_interval() {
        for (cap, unit) in [(10, 0.0), (10, 1.0), (1, 0.0), (1, 0.999)] {
            let mut p = Probe::new(Duration::from_secs(cap));
            let start = Instant::now();
            p.start(unit);
            let mut at = Vec::new();
            while start.elapsed() < Duration::from_secs(60) {
                tokio::time::sleep_until(p.next.unwrap()).await;
                assert!(p.due());
                at.push(start.elapsed().as_millis() as u64);
                p.failed(unit);
            }
            if (cap, unit) == (10, 0.0) {
                assert_eq!(&at[..6], &[1000, 3000, 7000, 15000, 25000, 35000]);
            }
            for w in at.windows(2) {
                let gap = w[1] - w[0];
                assert!(gap >= 1000 && gap <= cap * 1250, "{at:?}");
            }
            assert!(at.len() <= 60, "{} probes in a minute: {at:?}", at.len());
        }
        let mut p = Probe::new(Duration::from_secs(300));
        p.start(0.0);
        p.failed(0.0);
        p.stop();
        assert!(p.next.is_none() && !p.due());
        // the next outage starts from the shortest step again
        p.start(1.0);
        assert_eq!(
            p.next.unwrap() - Instant::now(),
            Duration::from_millis(1250)
        );
    }
}
