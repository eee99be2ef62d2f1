//! Audit ingest benchmarks (a bench binary, no harness):
//!
//! - `throughput`: audit lines per second through framing, parsing, dedup and
//!   every rule on one thread (what one core sustains).
//! - `rss`: peak RSS of the whole listener (`audit::serve`, TCP, no Slack)
//!   while a client bursts 1,000,000 lines at it as fast as loopback allows.
//!
//! `cargo bench --bench audit_ingest` runs both (rss first, in a fresh process
//! state); `-- rss` or `-- throughput` runs one.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

use std::io::Write;
use std::time::{Duration, Instant};
use vaultkeeper::{serve_with_stats, AuditSpec, StatsHandle};
use vaultkeeper::{Clock, Engine};
use vaultkeeper::{Frame, Framer};

const H: &str = "hmac-sha256:3c9d2a0e4b7f61d8a5c3e2f1b0a9d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1";

/// A realistic OpenBao audit line (field set and sizes as OpenBao 2.7 writes them).
fn line(i: u64) -> String {
    let id = format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        i,
        i % 65536,
        (i / 7) % 65536,
        (i / 13) % 65536,
        i * 2654435761 % (1 << 40)
    );
    let kind = if i % 2 == 0 { "request" } else { "response" };
    let host = i % 50;
    let (path, op, mount, extra) = match (i / 2) % 100 {
        0..=89 => (
            format!("secret/data/hosts/web{host:02}/app"),
            "read",
            "kv",
            String::new(),
        ),
        90..=94 => (
            "auth/token/lookup-self".to_string(),
            "read",
            "token",
            String::new(),
        ),
        95..=97 => (
            "auth/approle/login".to_string(),
            "update",
            "approle",
            format!(r#","data":{{"role_id":"{H}","secret_id":"{H}"}}"#),
        ),
        _ => (
            "auth/approle/login".to_string(),
            "update",
            "approle",
            format!(r#","data":{{"role_id":"{H}","secret_id":"{H}"}}"#),
        ),
    };
    let err = if (i / 2) % 100 >= 98 && kind == "response" {
        r#","error":"invalid credentials""#
    } else {
        ""
    };
    let resp = if kind == "response" {
        format!(
            r#","response":{{"mount_point":"{mount}/","mount_type":"{mount}","mount_accessor":"{mount}_1a2b3c4d","mount_running_plugin_version":"v2.7.2+builtin.bao","mount_class":"secret","data":{{"data":{{"password":"{H}","user":"{H}"}},"metadata":{{"created_time":"{H}","version":3}}}}}}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"time":"2026-11-22T08:51:47.277301907Z","type":"{kind}","auth":{{"client_token":"{H}","accessor":"{H}","display_name":"approle","policies":["default","host-web{host:02}"],"token_policies":["default","host-web{host:02}"],"policy_results":{{"allowed":true,"granting_policies":[{{"name":"host-web{host:02}","namespace_id":"root","type":"acl"}}]}},"metadata":{{"role_name":"web{host:02}"}},"entity_id":"6a1f2b3c-4d5e-6f70-8192-a3b4c5d6e7f8","token_type":"service","token_ttl":3600,"token_issue_time":"2026-11-22T08:51:44Z"}},"request":{{"id":"{id}","client_id":"0DHqvq2D77kL2/JTPSZkTMJbkFVmUu0TzMi0jiXcFy8=","operation":"{op}","mount_point":"{mount}/","mount_type":"{mount}","mount_accessor":"{mount}_1a2b3c4d","mount_running_version":"v2.7.2+builtin.bao","mount_class":"secret","client_token":"{H}","client_token_accessor":"{H}","namespace":{{"id":"root"}},"path":"{path}"{extra},"remote_address":"10.0.{}.{}","remote_port":{}}}{resp}{err}}}"#,
        host,
        i % 200,
        30000 + i % 30000
    )
}

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn throughput() {
    let n = 200_000u64;
    let mut buf = Vec::with_capacity(n as usize * 1600);
    for i in 0..n {
        buf.extend_from_slice(line(i).as_bytes());
        buf.push(b'\n');
    }
    let avg = buf.len() as f64 / n as f64;
    let spec = AuditSpec::defaults();
    let mut best = f64::MAX;
    let mut alerts = 0;
    for _ in 0..5 {
        let mut engine = Engine::new(&spec);
        let mut framer = Framer::new();
        let mut out = Vec::new();
        let t = Instant::now();
        for chunk in buf.chunks(64 << 10) {
            framer.feed(chunk, &mut |f| {
                if let Frame::Line(l) = f {
                    engine.ingest(l, Clock::Given(1_000_000), &mut out);
                }
            });
        }
        engine.flush(&mut out);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(engine.counts.entries, n);
        best = best.min(secs);
        alerts = out.len();
    }
    println!(
        "throughput: {n} lines (avg {avg:.0} bytes) in {best:.3}s best of 5 = {:.0} lines/s, {:.0} MB/s on one thread; {alerts} alerts",
        n as f64 / best,
        buf.len() as f64 / best / 1e6
    );
}

fn rss() {
    let total = 1_000_000u64;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let state = tempfile::tempdir().unwrap();
    let spec = vaultkeeper::audit_spec_from_json(
        "bench",
        &format!(r#"{{"listen":["tcp:127.0.0.1:{port}"],"statsInterval":"1h"}}"#),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stats = StatsHandle::default();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = stats.clone();
    let dir = state.path().to_path_buf();
    let server = rt.spawn(async move {
        serve_with_stats(
            &spec,
            &dir,
            async {
                let _ = rx.await;
            },
            st,
        )
        .await
    });
    std::thread::sleep(Duration::from_millis(300));
    let base = vm_hwm_kib();
    let t = Instant::now();
    let client = std::thread::spawn(move || {
        let mut s = std::io::BufWriter::with_capacity(
            256 << 10,
            std::net::TcpStream::connect(("127.0.0.1", port)).unwrap(),
        );
        for i in 0..total {
            s.write_all(line(i).as_bytes()).unwrap();
            s.write_all(b"\n").unwrap();
        }
        s.flush().unwrap();
    });
    client.join().unwrap();
    let sent = t.elapsed();
    // wait until the engine has seen or counted every line
    loop {
        let s = stats.snapshot();
        if s.lines_read >= total && s.entries + s.dropped.overload >= total {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = t.elapsed();
    let _ = tx.send(());
    let snap = rt.block_on(server).unwrap().unwrap();
    println!(
        "rss: 1,000,000-line burst over TCP: sent in {:.2}s, evaluated in {:.2}s ({:.0} lines/s end to end); entries {}, overload {}; peak RSS {:.1} MiB (baseline before the burst {:.1} MiB)",
        sent.as_secs_f64(),
        done.as_secs_f64(),
        total as f64 / done.as_secs_f64(),
        snap.entries,
        snap.dropped.overload,
        vm_hwm_kib() as f64 / 1024.0,
        base as f64 / 1024.0
    );
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`:
    // benchmarks are run on purpose, not with the tests.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("audit_ingest: a benchmark; run it with `cargo bench --bench audit_ingest`");
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |m: &str| args.is_empty() || args.iter().any(|a| a == m);
    if want("rss") {
        rss();
    }
    if want("throughput") {
        throughput();
    }
}
