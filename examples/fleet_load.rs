//! Fleet-load model: N hosts x S secrets against one Vault cluster, driven by the
//! daemon's own scheduling code (`daemon::schedule::refresh_delay`,
//! `daemon::token::after_login`/`after_renewal`). Counts the requests the cluster
//! sees in each second and prints mean, p99 and peak per scenario.
//!
//!     cargo run --release --example fleet_load -- [HOSTS] [SECRETS] [REFRESH_S]
//!
//! What one host sends (the code as it is):
//! - at boot: one `vault-secret-<name>.service` per secret (`vaultkeeper fetch
//!   --boot NAME`). A secret whose cache Vault confirmed less than
//!   `bootCacheMaxAge` (15 min) ago is rendered from it without a request
//!   (`boot_cache`); the daemon checks it (a metadata read) at a uniformly
//!   random time within its first refresh interval. Every other secret costs
//!   one AppRole login + one full read, and the daemon adopts it
//!   (`daemon::adopt_boot_fetch`: first check at the first jittered refresh;
//!   before that change it read every secret again: the "re-reads" row).
//!   Then the daemon's one login. A reboot after `D` down: each secret's last
//!   confirmation was uniformly within one refresh interval before the
//!   shutdown (the daemon's checks confirm), so its age at boot is `D` plus
//!   that;
//! - then each secret every `refresh_delay(refreshInterval)` (0.8-1.0 x the
//!   interval): one KV v2 metadata read, plus a full read when the version
//!   changed (`daily` rotation: each secret changes once a day at a random time);
//! - the token renewed at 2/3 of its 1 h lease.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

use std::time::Duration;
use vaultkeeper::refresh_delay;
use vaultkeeper::{after_login, after_renewal, Plan};

struct Counts(Vec<u32>);

impl Counts {
    fn add(&mut self, t: f64, n: u32) {
        if t >= 0.0 && (t as usize) < self.0.len() {
            self.0[t as usize] += n;
        }
    }
    fn stats(&self, from: usize, to: usize) -> (f64, u32, u32, usize) {
        let w = &self.0[from..to];
        let mean = w.iter().map(|&x| x as f64).sum::<f64>() / w.len() as f64;
        let mut s = w.to_vec();
        s.sort_unstable();
        let p99 = s[((s.len() as f64 * 0.99).ceil() as usize).min(s.len()) - 1];
        let (i, max) = w.iter().enumerate().max_by_key(|(_, &x)| x).unwrap();
        (mean, p99, *max, from + i)
    }
}

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        // splitmix64: reproducible figures for a given seed.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    /// Hosts boot uniformly in [boot_from, boot_from + boot_span).
    boot_from: f64,
    boot_span: f64,
    jitter: bool,
    /// The daemon's first pass reuses what the fetch units just rendered
    /// (a what-if, not the code as it is).
    reuse_boot_fetch: bool,
    /// What-if: the boot fetch units share one login (S reads + 1 login).
    one_boot_login: bool,
    /// How long the hosts were down before the reboot (seconds): a secret
    /// whose confirmation is younger than `BOOT_CACHE_MAX_AGE` at boot is
    /// rendered from its cache (`fetch --boot`). `None`: no confirmed cache
    /// (a first boot, or `bootCacheMaxAge: "0s"`).
    down: Option<f64>,
}

/// The default `bootCacheMaxAge`.
const BOOT_CACHE_MAX_AGE: f64 = 900.0;

fn run(sc: Scenario, hosts: usize, secrets: usize, refresh: Duration, horizon: usize) -> Counts {
    let mut c = Counts(vec![0; horizon]);
    let mut rng = Rng(0x5EED);
    let lease = Duration::from_secs(3600);
    let day = 86_400.0;
    for _ in 0..hosts {
        let boot = sc.boot_from + rng.unit() * sc.boot_span;
        // Per secret: rendered from the confirmed cache at boot, or read.
        let cached: Vec<bool> = (0..secrets)
            .map(|_| {
                sc.down.is_some_and(|d| {
                    let age = d + rng.unit() * refresh.as_secs_f64();
                    age < BOOT_CACHE_MAX_AGE
                })
            })
            .collect();
        // Fetch units of the others: login + full read each, within ~2 s of boot.
        let reads = cached.iter().filter(|c| !**c).count();
        for _ in 0..reads {
            c.add(
                boot + rng.unit() * 2.0,
                if sc.one_boot_login { 1 } else { 2 },
            );
        }
        if sc.one_boot_login && reads > 0 {
            c.add(boot, 1);
        }
        let start = boot + 2.0;
        c.add(start, 1); // the daemon's login
                         // Token: renew at 2/3 of the lease, again and again.
        let mut plan = after_login(lease, true);
        let mut t = start;
        while let Plan::After(d, _) = plan {
            t += d.as_secs_f64();
            if t >= horizon as f64 {
                break;
            }
            c.add(t, 1);
            plan = after_renewal(lease, true, lease);
        }
        for &from_cache in &cached {
            let mut t = start;
            if from_cache {
                // First check (metadata) at a random time within the first
                // interval (`adopt_boot_fetch`), then the jittered schedule.
                t = start + rng.unit() * refresh.as_secs_f64();
                c.add(t, 1);
            } else if !sc.reuse_boot_fetch {
                c.add(t, 1); // first pass: a full read (no known version)
            }
            // Daily rotation: the secret changes once a day at a random time.
            let mut change = boot - rng.unit() * day + day;
            let mut seen = t;
            loop {
                let u = if sc.jitter { rng.unit() } else { 1.0 };
                t += refresh_delay(refresh, u).as_secs_f64();
                if t >= horizon as f64 {
                    break;
                }
                let mut n = 1; // metadata read
                while change <= t {
                    if change > seen {
                        n = 2; // + full read of the new version
                    }
                    change += day;
                }
                seen = t;
                c.add(t, n);
            }
        }
    }
    c
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let hosts = args.first().copied().unwrap_or(10_000);
    let secrets = args.get(1).copied().unwrap_or(20);
    let refresh = Duration::from_secs(args.get(2).copied().unwrap_or(300) as u64);
    let horizon = 3 * 3600;
    println!(
        "{hosts} hosts x {secrets} secrets, refreshInterval {}s, daily rotation, 1 h token lease",
        refresh.as_secs()
    );
    let steady = Scenario {
        name: "steady state (hosts up for up to a day)",
        boot_from: -86_400.0,
        boot_span: 86_400.0,
        jitter: true,
        reuse_boot_fetch: false,
        one_boot_login: false,
        down: None,
    };
    let (s_mean, s_p99, s_max, _) = run(steady, hosts, secrets, refresh, horizon).stats(0, horizon);
    println!(
        "| {} | {s_mean:.0} | {s_p99} | {s_max} | 1.0x |",
        steady.name
    );
    let reboot = |name, down: Option<f64>| Scenario {
        name,
        boot_from: 0.0,
        boot_span: 60.0,
        jitter: true,
        reuse_boot_fetch: true,
        one_boot_login: false,
        down,
    };
    for sc in [
        reboot(
            "the code: fleet-wide reboot within 60 s after 2 min down (every cache confirmed < bootCacheMaxAge ago: no read at boot)",
            Some(120.0),
        ),
        reboot(
            "the code: reboot after 12 min down (confirmations 12-17 min old: some read at boot)",
            Some(720.0),
        ),
        reboot(
            "the code: reboot after 1 h down (every confirmation older than bootCacheMaxAge: every host reads at boot; = cold start, or bootCacheMaxAge 0s)",
            Some(3600.0),
        ),
        Scenario {
            jitter: false,
            ..reboot(
                "the code: reboot after 1 h down, no jitter (fixed interval)",
                Some(3600.0),
            )
        },
        Scenario {
            reuse_boot_fetch: false,
            ..reboot(
                "before adopt_boot_fetch: reboot after 1 h down, the daemon re-reads every secret at start",
                Some(3600.0),
            )
        },
        Scenario {
            one_boot_login: true,
            ..reboot(
                "what-if: reboot after 1 h down, one login for all boot fetches (the floor with reads at boot)",
                Some(3600.0),
            )
        },
    ] {
        let c = run(sc, hosts, secrets, refresh, horizon);
        let (mean, p99, max, at) = c.stats(0, horizon);
        // After the boot burst: the waves of the refresh schedule.
        let (_, w_p99, w_max, w_at) = c.stats(120, horizon);
        let (late_mean, _, late_max, _) = c.stats(2 * 3600, horizon);
        println!(
            "| {} | {mean:.0} | {p99} | {max} at {at}s | {:.1}x | after the boot minute: p99 {w_p99}, peak {w_max} at {w_at}s ({:.1}x) | hour 3: mean {late_mean:.0}, peak {late_max} ({:.1}x) |",
            sc.name,
            max as f64 / s_mean,
            w_max as f64 / s_mean,
            late_max as f64 / s_mean
        );
    }
}
