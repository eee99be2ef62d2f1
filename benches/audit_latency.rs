//! OpenBao request latency with a socket audit device pointed at vaultkeeper,
//! while the Slack webhook hangs, against the same server with a file device
//! only (and, for reference, a socket device to a reader that discards
//! everything: OpenBao's own cost of a second device). Then the control: a
//! socket device whose listener stops reading.
//!
//!   cargo bench --bench audit_latency -- [ROUNDS] [PER_ROUND]     (defaults 20, 1000)
//!
//! scripts/bench-audit.sh installs OpenBao and runs this; figures go to
//! docs/benchmarks.md. It reuses the test harness (real OpenBao dev servers, a
//! real `vaultkeeper audit listen`, the Slack stand-in in hang mode).
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/audit_support/mod.rs"]
mod audit_support;

use audit_support::latency::{stalled_listener, Scenario};
use std::time::Duration;
use support::load::{ms, Latencies};

fn row(name: &str, l: &Latencies) -> String {
    format!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.1} | {} | {} |",
        l.samples.len(),
        ms(l.quantile(0.50)),
        ms(l.quantile(0.99)),
        ms(l.quantile(0.999)),
        ms(l.max()),
        l.over(Duration::from_millis(100)),
        l.errors
    )
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`;
    // tests/audit.rs runs the same scenario at test size.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("audit_latency: a benchmark; run it with scripts/bench-audit.sh");
        return;
    }
    let nums: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = nums.first().copied().unwrap_or(20);
    let per_round = nums.get(1).copied().unwrap_or(1000);

    let s = Scenario::start("info", true);
    eprintln!(
        "measuring {rounds} rounds x {per_round} KV reads per configuration (after 1000 warm-up reads each)"
    );
    let l = s.measure(1000, rounds, per_round);
    // Three servers with a socket to vaultkeeper, a request and a response line per read.
    let lines = 3 * 2 * ((rounds * per_round) as u64 + 1000);
    let stats = s.stats_after(lines);
    let slack_requests = s.slack.requests();
    let outbox = s.agent.outbox().len();
    let labels: Vec<&str> = s.servers.iter().map(|x| x.label).collect();
    // Per round, each configuration's p99 over the file-only p99 of that round.
    let per_round = |i: usize| {
        let mut v: Vec<f64> = (0..rounds)
            .map(|r| {
                let cut = |x: &Latencies| Latencies {
                    samples: x.samples[r * per_round..(r + 1) * per_round].to_vec(),
                    errors: 0,
                };
                cut(&l[i]).quantile(0.99).as_secs_f64() / cut(&l[0]).quantile(0.99).as_secs_f64()
            })
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (v[0], v[rounds / 2], v[rounds - 1])
    };
    let spreads: Vec<(f64, f64, f64)> = (0..l.len()).map(per_round).collect();
    drop(s);

    eprintln!("control: a socket device whose listener accepts and never reads");
    let stalled = stalled_listener(
        Duration::from_millis(1000),
        20_000,
        Duration::from_secs(120),
    );

    println!("| OpenBao audit devices | requests | p50 ms | p99 ms | p99.9 ms | max ms | > 100 ms | errors | p99 / file only | per-round p99 ratio min / median / max |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let p99 = |x: &Latencies| x.quantile(0.99).as_secs_f64();
    for (i, label) in labels.iter().enumerate() {
        let (lo, med, hi) = spreads[i];
        println!(
            "{} {:.2} | {lo:.2} / {med:.2} / {hi:.2} |",
            row(label, &l[i]),
            p99(&l[i]) / p99(&l[0])
        );
    }
    println!(
        "{} {:.2} | |",
        row(
            "file + socket → listener that never reads (control)",
            &stalled
        ),
        p99(&stalled) / p99(&l[0])
    );
    println!();
    println!(
        "listener: {} lines read, {} entries, dropped {}, alerts {}, {} Slack POST(s) hanging, {} alert(s) in the outbox",
        stats["lines_read"],
        stats["entries"],
        stats["dropped"],
        stats["alerts"],
        slack_requests,
        outbox
    );
}
