//! A small real fleet against the real 3-node OpenBao raft cluster: 30
//! `vaultkeeper run` daemons, each in its own UTS namespace with its own host
//! name (the address order is rotated by a hash of the host name), 5 secrets at
//! a 2 s refresh. Checks the two things the fleet-load model
//! (`examples/fleet_load.rs`, docs/benchmarks.md) assumes: what one host sends
//! (one login and a full read per secret at start, then one metadata read per
//! secret per jittered refresh), and that a fleet spreads over the nodes.
//! Needs root (unshare --uts), as the rest of the suite.
//!
//! The suite runs 30; a bigger fleet is a measurement, not a test of the suite:
//! `VAULTKEEPER_FLEET_HOSTS=200 VAULTKEEPER_FLEET_REFRESH_S=10 cargo test --test
//! fleet -- --nocapture` (figures in docs/benchmarks.md).
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::raft::Cluster;
use support::run::secret;
use support::spec::Host;
use support::wait::wait_for;
use vaultkeeper::host_order;

const SECRETS: usize = 5;

/// `name` from the environment (a measurement run), else `default`.
fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// A daemon in its own UTS namespace named `name`; killed when dropped.
struct FleetDaemon {
    name: String,
    child: Child,
    host: Host,
    textfile: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl Drop for FleetDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        support::run::assert_no_secret_in(&log, "a fleet daemon's log");
        support::run::keep_log(&self.name, &log);
    }
}

/// `vaultkeeper_vault_requests_total` in a textfile's text: (address, outcome) → count.
fn requests(text: &str) -> BTreeMap<(String, String), f64> {
    let f = support::prom::parse(text);
    let Some(fam) = f.get("vaultkeeper_vault_requests") else {
        return BTreeMap::new();
    };
    fam.samples
        .iter()
        .filter(|(k, _)| k.starts_with("vaultkeeper_vault_requests_total{"))
        .map(|(k, v)| {
            let label = |l: &str| {
                let start = k.find(&format!("{l}=\"")).unwrap() + l.len() + 2;
                k[start..start + k[start..].find('"').unwrap()].to_string()
            };
            ((label("address"), label("outcome")), *v)
        })
        .collect()
}

#[test]
fn a_real_fleet_sends_what_the_model_counts_and_spreads_over_the_nodes() {
    let hosts: usize = knob("VAULTKEEPER_FLEET_HOSTS", 30);
    let refresh_s: f64 = knob("VAULTKEEPER_FLEET_REFRESH_S", 2.0);
    assert!((3..=500).contains(&hosts) && (1.0..=60.0).contains(&refresh_s));
    let c = Cluster::start(3);
    let admin = c.admin();
    let (role_id, secret_id) = admin.approle("fleet");
    let mut values = BTreeMap::new();
    for i in 0..SECRETS {
        let v = secret(&format!("fleet{i}"));
        c.kv_put_http(&format!("hosts/fleet/s{i}"), &json!({ "v": v }));
        values.insert(format!("s{i}"), v);
    }
    // Standbys serve reads from their own raft copy: wait until each has the data.
    let last = format!("/v1/secret/data/hosts/fleet/s{}", SECRETS - 1);
    wait_for("the secrets on every node", Duration::from_secs(30), || {
        (0..3)
            .all(|i| {
                support::raft::http_request(c.port(i), "GET", &last, &c.root_token, "")
                    .is_some_and(|(s, _)| s == 200 || s == 307)
            })
            .then_some(())
    });
    let names: Vec<String> = (0..hosts).map(|i| format!("fleet-host-{i:02}")).collect();
    let addrs = c.addrs();
    let mut daemons = Vec::new();
    for name in &names {
        let host = Host::new();
        host.write_credentials(&role_id, &secret_id);
        let secrets: serde_json::Map<String, Value> = (0..SECRETS)
            .map(|i| {
                (
                    format!("s{i}"),
                    json!({ "secretPath": format!("hosts/fleet/s{i}") }),
                )
            })
            .collect();
        let mut spec = host.spec("http://unused", Value::Object(secrets));
        let textfile = host.path("vaultkeeper.prom");
        spec["vault"]["address"] = json!(addrs);
        spec["vault"]["timeout"] = json!("10s");
        spec["refreshInterval"] = json!(format!("{refresh_s}s"));
        spec["metrics"] = json!({ "textfile": textfile });
        spec["approle"]["roleName"] = json!("fleet");
        let spec_path = host.write_spec(&spec);
        let log = host.path("daemon.log");
        let child = Command::new("unshare")
            .args(["--uts", "--", "sh", "-c"])
            .arg("echo \"$0\" > /proc/sys/kernel/hostname && exec \"$@\"")
            .arg(name)
            .arg(support::run::bin())
            .args(["--spec", spec_path.to_str().unwrap(), "run"])
            .env("VAULTKEEPER_LOG", "info")
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("unshare --uts (needs root)");
        daemons.push(FleetDaemon {
            name: name.clone(),
            child,
            host,
            textfile,
            log,
        });
    }
    // Every daemon's first pass done.
    let started = Instant::now();
    let first_pass_limit = Duration::from_secs(90 * hosts.div_ceil(30) as u64);
    wait_for("every daemon's first pass", first_pass_limit, || {
        daemons
            .iter()
            .all(|d| {
                values.iter().all(|(n, v)| {
                    std::fs::read_to_string(d.host.out(n).join("v")).is_ok_and(|g| g == *v)
                })
            })
            .then_some(())
    });
    let first_pass = started.elapsed();
    // The textfiles are read at once (parsed afterwards: the parser takes a
    // while per file, and the window is between the two reads).
    let snapshot = |ds: &[FleetDaemon]| -> Vec<String> {
        ds.iter()
            .map(|d| std::fs::read_to_string(&d.textfile).unwrap_or_default())
            .collect()
    };
    let totals = |texts: &[String]| -> BTreeMap<(String, String), f64> {
        let mut all = BTreeMap::new();
        for t in texts {
            for (k, v) in requests(t) {
                *all.entry(k).or_insert(0.0) += v;
            }
        }
        all
    };
    // A window of steady state: only metadata reads, one per secret per
    // jittered refresh (0.8-1.0 x 2 s, mean 1.8 s).
    std::thread::sleep(Duration::from_secs_f64(1.5 * refresh_s));
    let t0 = Instant::now();
    let before = snapshot(&daemons);
    std::thread::sleep(Duration::from_secs_f64(10.0 * refresh_s));
    let after = snapshot(&daemons);
    let window = t0.elapsed().as_secs_f64();
    let (before, after) = (totals(&before), totals(&after));
    let count = |m: &BTreeMap<(String, String), f64>, outcome: &str| -> f64 {
        m.iter()
            .filter(|((_, o), _)| o == outcome)
            .map(|(_, v)| v)
            .sum()
    };
    let steady = count(&after, "success") - count(&before, "success");
    let expected = (hosts * SECRETS) as f64 * window / (0.9 * refresh_s);
    let ratio = steady / expected;
    eprintln!(
        "figures: {hosts} real daemons x {SECRETS} secrets, refresh {refresh_s}s: first pass of all done {first_pass:?} after start; steady {steady} successful requests in {window:.1}s = {:.1} req/s, the model's formula {:.1} req/s (ratio {ratio:.2})",
        steady / window,
        expected / window
    );
    assert!(
        (0.85..=1.15).contains(&ratio),
        "{steady} requests in {window:.1}s, the model expects {expected:.0}"
    );
    // Nothing but successes: no failover, no error.
    for ((addr, outcome), n) in &after {
        assert!(
            outcome == "success" || outcome == "redirect",
            "{n} {outcome} at {addr}"
        );
    }
    // Spread: each node gets the share of the hosts that prefer it.
    let mut prefer = BTreeMap::new();
    for name in &names {
        *prefer
            .entry(host_order(&addrs, name)[0].clone())
            .or_insert(0usize) += 1;
    }
    let total = count(&after, "success");
    for a in &addrs {
        let got: f64 = after
            .iter()
            .filter(|((x, o), _)| x == a && o == "success")
            .map(|(_, v)| v)
            .sum();
        let share = got / total;
        let want = *prefer.get(a).unwrap_or(&0) as f64 / hosts as f64;
        eprintln!("figures: {a}: preferred by {:.0} % of the hosts, served {:.0} % of the successful requests", want * 100.0, share * 100.0);
        assert!(
            (share - want).abs() < 0.10,
            "{a}: {share:.2} of the requests, {want:.2} of the hosts prefer it"
        );
    }
    assert!(
        prefer.values().all(|&n| n >= 5),
        "{prefer:?}: the host names do not spread over the three nodes"
    );
    drop(daemons);
}
