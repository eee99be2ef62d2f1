//! The daemon's clocks, as pure functions: when a secret is checked again, and
//! when a service is due for its scheduled restart (`restartTrigger`).
//!
//! Scheduled restarts are kept per unit as "last restarted at" (Unix seconds,
//! persisted in `<stateDir>/rotation.json`, see [`RotationBook`]). A unit is due at
//! `last + restartInterval + offset`, where `offset` is a pseudo-random delay in
//! `[0, restartRandomizedDelay)` derived from the host, the unit and `last`, so
//! it is the same after a reboot (no burst, no reset) and different on every host
//! (a fleet does not restart at once). A restart for a change also sets `last`,
//! so the schedule does not restart the unit again in the same window.

use crate::spec::{unit_name, Spec};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The delay before a secret is checked again: uniform in [0.8, 1.0] × interval,
/// so checks spread out but a change is always seen within `refreshInterval`.
/// `unit` is a random number in [0, 1).
pub fn refresh_delay(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(0.8 + 0.2 * unit.clamp(0.0, 1.0))
}

/// The randomized delay of one window, like systemd's `RandomizedDelaySec=`.
pub(crate) fn rotation_offset(seed: &str, unit: &str, last: u64, max_delay: Duration) -> Duration {
    let max = max_delay.as_secs();
    if max == 0 {
        return Duration::ZERO;
    }
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0]);
    h.update(unit.as_bytes());
    h.update(last.to_be_bytes());
    let d = h.finalize();
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    Duration::from_secs(n % max)
}

/// Unix second at which `unit` is next due.
pub(crate) fn rotation_due(last: u64, interval: Duration, offset: Duration) -> u64 {
    last.saturating_add(interval.as_secs())
        .saturating_add(offset.as_secs())
}

/// One unit's scheduled restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RotationJob {
    pub unit: String,
    /// The secret whose schedule is the earliest for this unit.
    pub secret: String,
    pub due: u64,
}

/// Every non-critical unit of every secret with `restartTrigger`, with its due
/// time (earliest over the secrets naming it). Units never seen before are given
/// `last = now`: the first scheduled restart is one interval after the daemon
/// first sees them, never at once.
pub(crate) fn rotation_jobs(
    spec: &Spec,
    book: &mut RotationBook,
    seed: &str,
    now: u64,
) -> Vec<RotationJob> {
    let mut jobs: BTreeMap<String, RotationJob> = BTreeMap::new();
    for s in spec.secrets.values().filter(|s| s.restart_trigger) {
        for svc in &s.services {
            if spec.is_critical(svc) {
                continue;
            }
            let unit = unit_name(svc);
            let last = *book.last.entry(unit.clone()).or_insert(now);
            let offset = rotation_offset(seed, &unit, last, s.restart_randomized_delay);
            let due = rotation_due(last, s.restart_interval, offset);
            let job = RotationJob {
                unit: unit.clone(),
                secret: s.name.clone(),
                due,
            };
            match jobs.get(&unit) {
                Some(j) if j.due <= due => {}
                _ => {
                    jobs.insert(unit, job);
                }
            }
        }
    }
    jobs.into_values().collect()
}

/// Last restart time of each unit, persisted in `<stateDir>/rotation.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RotationBook {
    pub last: BTreeMap<String, u64>,
}

const BOOK: &str = "rotation.json";

impl RotationBook {
    pub(crate) fn load(state_dir: &Path) -> RotationBook {
        crate::fs::load_record(state_dir, BOOK).unwrap_or_default()
    }

    /// Best effort: logged when it fails, never fatal.
    pub(crate) fn save(&self, state_dir: &Path) {
        let durable = crate::fs::Durability::Durable;
        if let Err(e) = crate::fs::save_record(state_dir, state_dir, BOOK, self, durable) {
            tracing::warn!("cannot record the restart schedule: {e}");
        }
    }
}

/// A per-host seed for the randomized delays: /etc/machine-id, else the host name.
pub(crate) fn host_seed() -> String {
    std::fs::read_to_string("/etc/machine-id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(crate::host::hostname)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Spec {
        Spec::from_json("test", &json.to_string()).unwrap()
    }

    #[test]
    fn refresh_is_jittered_within_the_interval() {
        let i = Duration::from_secs(300);
        assert_eq!(refresh_delay(i, 0.0), Duration::from_secs(240));
        assert_eq!(refresh_delay(i, 1.0), Duration::from_secs(300));
        assert_eq!(refresh_delay(i, 0.5), Duration::from_secs(270));
        for _ in 0..1000 {
            let d = refresh_delay(i, rand::random());
            assert!(d >= Duration::from_secs(240) && d <= i);
        }
    }

    #[test]
    fn offsets_are_stable_bounded_and_spread() {
        let h = Duration::from_secs(3600);
        let a = rotation_offset("host-a", "grafana.service", 1_000_000, h);
        assert_eq!(
            a,
            rotation_offset("host-a", "grafana.service", 1_000_000, h)
        );
        assert!(a < h);
        assert_eq!(rotation_offset("x", "y", 1, Duration::ZERO), Duration::ZERO);
        // 200 hosts spread over the hour: no minute holds more than a handful.
        let mut minutes = [0u32; 60];
        for host in 0..200 {
            let o = rotation_offset(&format!("host-{host}"), "grafana.service", 1_000_000, h);
            assert!(o < h);
            minutes[(o.as_secs() / 60) as usize] += 1;
        }
        assert!(
            minutes.iter().filter(|m| **m > 0).count() > 40,
            "{minutes:?}"
        );
        assert!(*minutes.iter().max().unwrap() <= 10, "{minutes:?}");
    }

    #[test]
    fn jobs_skip_critical_units_and_keep_their_schedule_across_restarts() {
        let s = spec(serde_json::json!({
            "vault": {"address": "http://127.0.0.1:8200"},
            "criticalServices": ["postgresql"],
            "secrets": {
                "grafana": {"secretPath": "a", "services": ["grafana", "postgresql.service"],
                            "restartTrigger": true, "restartInterval": "36h",
                            "restartRandomizedDelay": "0s"},
                "nginx": {"secretPath": "b", "services": ["nginx"], "restartTrigger": true,
                          "restartInterval": "daily"},
                "quiet": {"secretPath": "c", "services": ["quiet"]},
                "also-grafana": {"secretPath": "d", "services": ["grafana"], "restartTrigger": true,
                                 "restartInterval": "daily", "restartRandomizedDelay": "0s"}
            }
        }));
        let now = 10_000_000;
        let mut book = RotationBook::default();
        let jobs = rotation_jobs(&s, &mut book, "seed", now);
        let units: Vec<(&str, &str)> = jobs
            .iter()
            .map(|j| (j.unit.as_str(), j.secret.as_str()))
            .collect();
        // postgresql is critical, quiet has no restartTrigger; grafana's earliest
        // schedule is the daily one of also-grafana.
        assert_eq!(
            units,
            [
                ("grafana.service", "also-grafana"),
                ("nginx.service", "nginx")
            ]
        );
        assert_eq!(jobs[0].due, now + 86400);
        let nginx_offset = rotation_offset("seed", "nginx.service", now, Duration::from_secs(3600));
        assert_eq!(jobs[1].due, now + 86400 + nginx_offset.as_secs());
        assert_eq!(book.last.len(), 2);

        // A reboot 30 hours later: same book, same due times, nothing reset.
        let dir = tempfile::tempdir().unwrap();
        book.save(dir.path());
        let mut again = RotationBook::load(dir.path());
        assert_eq!(again, book);
        let later = rotation_jobs(&s, &mut again, "seed", now + 30 * 3600);
        assert_eq!(later, jobs);

        // A change-driven restart of grafana moves its next scheduled restart.
        again.last.insert("grafana.service".into(), now + 3600);
        let moved = rotation_jobs(&s, &mut again, "seed", now + 30 * 3600);
        assert_eq!(moved[0].due, now + 3600 + 86400);
    }

    /// The schedule on tokio's paused clock: a 36h interval with up to 1h of
    /// randomized delay restarts exactly twice in 4 days, each window once.
    #[tokio::test(start_paused = true)]
    async fn a_schedule_runs_once_per_window_on_the_paused_clock() {
        let s = spec(serde_json::json!({
            "vault": {"address": "http://127.0.0.1:8200"},
            "secrets": {"g": {"secretPath": "a", "services": ["grafana"], "restartTrigger": true,
                              "restartInterval": "36h"}}
        }));
        let start = tokio::time::Instant::now();
        let t0 = 1_000_000u64;
        let now = || t0 + start.elapsed().as_secs();
        let mut book = RotationBook::default();
        let mut restarts = Vec::new();
        while start.elapsed() < Duration::from_secs(4 * 86400) {
            let job = rotation_jobs(&s, &mut book, "seed", now()).remove(0);
            if job.due <= now() {
                restarts.push(now() - t0);
                book.last.insert(job.unit.clone(), now());
                continue;
            }
            tokio::time::sleep(Duration::from_secs(job.due - now())).await;
        }
        assert_eq!(restarts.len(), 2, "{restarts:?}");
        let o1 =
            rotation_offset("seed", "grafana.service", t0, Duration::from_secs(3600)).as_secs();
        assert_eq!(restarts[0], 36 * 3600 + o1);
        let o2 = rotation_offset(
            "seed",
            "grafana.service",
            t0 + restarts[0],
            Duration::from_secs(3600),
        )
        .as_secs();
        assert_eq!(restarts[1], restarts[0] + 36 * 3600 + o2);
    }
}
