//! A real 3-node OpenBao 2.7.2 raft cluster on loopback (tests/support/raft.rs):
//! the harness itself, and vaultkeeper against it.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use support::logged::{assert_logged, assert_not_logged};
use support::raft::Cluster;
use support::run::secret;

/// The harness does what the HA tests rely on: three nodes, one active and two
/// standbys that agree on the leader; a killed leader is replaced, the data
/// survives, and the old leader restarts and rejoins as a standby.
#[test]
fn raft_cluster_elects_a_new_leader_and_rejoins_a_restarted_node() {
    let c = Cluster::start(3);
    let leader = c.leader();
    let leader_addr = c.addr(leader);
    for i in 0..3 {
        assert_eq!(
            c.leader_address_seen_by(i).as_deref(),
            Some(leader_addr.as_str()),
            "node {i} does not see node {leader} as the leader"
        );
    }
    let standbys: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    for &i in &standbys {
        assert_eq!(
            support::raft::http_get(c.port(i), "/v1/sys/health").map(|r| r.0),
            Some(429),
            "node {i} should be a standby"
        );
    }
    let value = secret("raft");
    c.admin()
        .kv_put("hosts/ha/db", &json!({ "password": value }));

    c.kill(leader);
    let new = c.wait_leader_not(leader);
    assert!(standbys.contains(&new));
    let got = c
        .admin()
        .cli_json(&["kv", "get", "-mount=secret", "hosts/ha/db"]);
    assert_eq!(got["data"]["data"]["password"], value.as_str());

    c.restart(leader);
    c.wait_health(leader, &[429]);
    assert_eq!(c.leader(), new, "the restarted node must not take over");
    let want = c.addr(new);
    support::wait::wait_for(
        "the restarted node to follow the new leader",
        std::time::Duration::from_secs(30),
        || (c.leader_address_seen_by(leader)? == want).then_some(()),
    );
}

// ---- vaultkeeper against the cluster ----

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::run::vaultkeeper;
use support::spec::{files, Host};
use support::wait::wait_for;
use vaultkeeper::host_order;

/// The role every HA test logs in as (its policy reads `secret/hosts/ha/*`).
const ROLE: &str = "ha";

/// `n` secrets `s000`.. at `hosts/ha/sNNN`, each `{ "v": <value>, "gen": gen }`;
/// returns the values by name.
fn put_secrets(c: &Cluster, n: usize, gen: u32) -> BTreeMap<String, String> {
    let values = (0..n)
        .map(|i| {
            let name = format!("s{i:03}");
            let v = secret(&format!("{name}-g{gen}"));
            c.kv_put_http(
                &format!("hosts/{ROLE}/{name}"),
                &json!({ "v": v, "gen": gen }),
            );
            (name, v)
        })
        .collect::<BTreeMap<_, _>>();
    // Written in order on the leader: the last one everywhere means all of them.
    wait_gen_everywhere(c, &format!("s{:03}", n - 1), gen);
    values
}

/// Waits until every running node serves `check` the way the leader does:
/// OpenBao 2.x standbys serve reads themselves (from their own, possibly a few
/// milliseconds stale, raft copy) and redirect writes, so data written on the
/// leader is awaited on each node before a test reads it through the list.
fn wait_replicated(c: &Cluster, what: &str, check: impl Fn(u16) -> bool) {
    wait_for(what, Duration::from_secs(30), || {
        (0..c.len())
            .filter(|&i| c.is_running(i))
            .all(|i| check(c.port(i)))
            .then_some(())
    });
}

/// `secret/hosts/ha/<name>` has generation `gen` on every running node.
fn wait_gen_everywhere(c: &Cluster, name: &str, gen: u32) {
    let path = format!("/v1/secret/data/hosts/{ROLE}/{name}");
    wait_replicated(
        c,
        &format!("{name} generation {gen} on every node"),
        |port| {
            support::raft::http_request(port, "GET", &path, &c.root_token, "").is_some_and(
                |(status, body)| {
                    status == 307
                        || (status == 200
                            && serde_json::from_str::<Value>(&body)
                                .is_ok_and(|v| v["data"]["data"]["gen"] == gen))
                },
            )
        },
    );
}

/// A host logging in as [`ROLE`], with `n` secrets and `vault.address` = every
/// node in node order; `extra` is merged into the spec's top level.
fn ha_host(c: &Cluster, n: usize, extra: Value) -> (Host, PathBuf) {
    let host = Host::new();
    let (role_id, secret_id) = c.admin().approle(ROLE);
    host.write_credentials(&role_id, &secret_id);
    let body = json!({ "role_id": role_id, "secret_id": secret_id }).to_string();
    wait_replicated(c, "the AppRole credentials on every node", |port| {
        support::raft::http_request(port, "POST", "/v1/auth/approle/login", "", &body)
            .is_some_and(|(status, _)| status == 200 || status == 307)
    });
    let secrets: serde_json::Map<String, Value> = (0..n)
        .map(|i| {
            let name = format!("s{i:03}");
            let path = format!("hosts/{ROLE}/{name}");
            (name, json!({ "secretPath": path }))
        })
        .collect();
    let mut spec = host.spec("http://unused", Value::Object(secrets));
    spec["vault"]["address"] = json!(c.addrs());
    spec["vault"]["timeout"] = json!("10s");
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    let path = host.write_spec(&spec);
    (host, path)
}

/// The `vault.address` list with which this machine tries node `first` first
/// (the order is the list rotated by a hash of the host name).
fn list_preferring(c: &Cluster, first: usize) -> Vec<String> {
    let addrs = c.addrs();
    let host = vaultkeeper::hostname();
    (0..addrs.len())
        .map(|k| {
            let mut l = addrs.clone();
            l.rotate_left(k);
            l
        })
        .find(|l| host_order(l, &host)[0] == addrs[first])
        .unwrap()
}

/// Node indices in the order this machine tries them.
fn host_order_of(c: &Cluster) -> Vec<usize> {
    let addrs = c.addrs();
    host_order(&addrs, &vaultkeeper::hostname())
        .iter()
        .map(|a| addrs.iter().position(|x| x == a).unwrap())
        .collect()
}

/// Every output holds the value of `want` for its secret.
fn all_rendered(host: &Host, want: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(name, v)| {
        std::fs::read_to_string(host.out(name).join("v")).is_ok_and(|got| got == *v)
    })
}

fn assert_all_rendered(host: &Host, want: &BTreeMap<String, String>) {
    for (name, v) in want {
        assert_eq!(&files(&host.out(name))["v"], v, "secret {name}");
    }
}

/// No line of `log` says a secret came from the cache or failed to render.
fn assert_no_cache_no_failure(log: &str) {
    for bad in [
        "last-known-good cache",
        "Vault is unreachable",
        " ERROR ",
        "render failed",
    ] {
        assert_not_logged(log, bad);
    }
}

/// The textfile's samples, parsed by Python's prometheus_client.
fn metrics(textfile: &Path) -> Option<BTreeMap<String, support::prom::Family>> {
    let text = std::fs::read_to_string(textfile).ok()?;
    Some(support::prom::parse(&text))
}

/// The sample `name{labels}` (labels in name order); 0 when absent. The
/// parser keys a counter's family without its `_total`.
fn sample(f: &BTreeMap<String, support::prom::Family>, name: &str, labels: &str) -> f64 {
    family(f, name)
        .samples
        .get(&format!("{name}{{{labels}}}"))
        .copied()
        .unwrap_or(0.0)
}

/// The family of sample `name`, which must be exported.
fn family<'a>(
    f: &'a BTreeMap<String, support::prom::Family>,
    name: &str,
) -> &'a support::prom::Family {
    f.get(name.strip_suffix("_total").unwrap_or(name))
        .unwrap_or_else(|| panic!("no family for {name} in {:?}", f.keys()))
}

/// Sums every sample of `name` whose labels contain `needle`.
fn sum_where(f: &BTreeMap<String, support::prom::Family>, name: &str, needle: &str) -> f64 {
    Some(family(f, name))
        .map(|fam| {
            fam.samples
                .iter()
                .filter(|(k, _)| k.starts_with(name) && k.contains(needle))
                .map(|(_, v)| v)
                .sum()
        })
        .unwrap_or(0.0)
}

/// (a) The leader is killed while a one-shot `fetch` of 100 secrets is reading
/// them, and again in the middle of a daemon's refresh cycles: nothing is
/// rendered from the cache, nothing fails, and the daemon is on the new data
/// at most one refresh interval after the cluster has a leader again.
#[test]
fn a_leader_killed_mid_fetch_and_mid_refresh_costs_no_cache_render_and_no_failure() {
    let c = Cluster::start(3);
    let want = put_secrets(&c, 100, 1);
    // This host prefers the leader: its requests go to the node that dies.
    let leader = c.leader();
    let (host, spec) = ha_host(
        &c,
        100,
        json!({ "vault": { "address": list_preferring(&c, leader), "timeout": "10s" } }),
    );

    // -- the one-shot fetch: the leader freezes once the fetch has logged in
    //    (every request to it hangs), then dies.
    let log = host.path("fetch.log");
    let mut child = Command::new(support::run::bin())
        .args(["--spec", spec.to_str().unwrap(), "fetch"])
        .env("VAULTKEEPER_LOG", "debug")
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("logged in")
    {
        assert!(
            Instant::now() < deadline,
            "the fetch did not log in within 30 s:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    c.freeze(leader);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the fetch finished before the leader died: the test did not kill it mid-fetch"
    );
    c.kill(leader);
    let t_kill = Instant::now();
    let new = c.wait_leader_not(leader);
    let elected_fetch = t_kill.elapsed();
    let status = child.wait().unwrap();
    eprintln!(
        "figures: one-shot fetch of 100 secrets, leader frozen 1.5 s then killed: a new leader {elected_fetch:?} after the kill, the fetch done {:?} after the kill",
        t_kill.elapsed()
    );
    let text = std::fs::read_to_string(&log).unwrap();
    support::run::assert_no_secret_in(&text, "the fetch's log");
    support::run::keep_log("ha-fetch", &text);
    assert_eq!(status.code(), Some(0), "{text}");
    assert_no_cache_no_failure(&text);
    assert_all_rendered(&host, &want);
    assert!(
        text.contains("trying the next Vault address") || text.contains("trying them again"),
        "no request failed over: the leader did not die mid-fetch\n{text}"
    );
    // The record `status` reads: the dead leader failed, a live node answered.
    let rec: Vec<Value> = serde_json::from_slice(
        &std::fs::read(host.state_dir().join("vault-addresses.json")).unwrap(),
    )
    .unwrap();
    let dead = rec
        .iter()
        .find(|a| a["address"] == c.addr(leader).as_str())
        .unwrap();
    assert_ne!(dead["lastOutcome"], "success", "{rec:?}");
    assert!(rec
        .iter()
        .any(|a| a["inUse"] == true && a["address"] != c.addr(leader).as_str()));

    // -- the daemon: 2 s refresh; the old leader is back as a standby.
    c.restart(leader);
    assert_eq!(c.leader(), new);
    let textfile = host.path("prom/vaultkeeper.prom");
    std::fs::create_dir_all(textfile.parent().unwrap()).unwrap();
    let mut s: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    s["refreshInterval"] = json!("2s");
    s["metrics"] = json!({ "textfile": textfile });
    // The daemon prefers the new leader, the node killed next.
    s["vault"]["address"] = json!(list_preferring(&c, new));
    std::fs::write(&spec, s.to_string()).unwrap();
    let d = Daemon::start(&spec, &[]);
    wait_for("every secret fresh", Duration::from_secs(60), || {
        let f = metrics(&textfile)?;
        ((0..100).all(|i| {
            sample(
                &f,
                "vaultkeeper_secret_last_success_timestamp_seconds",
                &format!("secret=\"s{i:03}\""),
            ) > 0.0
        }))
        .then_some(())
    });
    let want2 = put_secrets(&c, 100, 2);
    // Kill the leader while the daemon's checks (one every ~20 ms across the
    // 100 secrets) are going to it or through a standby to it.
    let leader = c.leader();
    c.kill(leader);
    let t_kill = Instant::now();
    c.wait_leader_not(leader);
    let elected = t_kill.elapsed();
    let t_elected = Instant::now();
    wait_for(
        "every secret on the data written before the kill",
        Duration::from_secs(60),
        || all_rendered(&host, &want2).then_some(()),
    );
    let took = t_elected.elapsed();
    eprintln!("figures: daemon, leader killed: elected after {elected:?}, every secret on the new data {took:?} after that");
    // One refresh interval (2 s, jittered to 1.6-2 s) after the election, plus
    // the interval the secret was already waiting, plus scheduling slack.
    assert!(
        took <= Duration::from_secs(5),
        "{took:?} after the election ({elected:?} after the kill) to the new data"
    );
    // Let a few more cycles run on the two survivors, then look at everything.
    std::thread::sleep(Duration::from_secs(3));
    let f = metrics(&textfile).unwrap();
    assert_eq!(
        sum_where(&f, "vaultkeeper_secret_served_from_cache", "secret="),
        0.0
    );
    assert_eq!(
        sum_where(&f, "vaultkeeper_secret_render_errors_total", "secret="),
        0.0
    );
    // Requests are counted per address and outcome: the live nodes served.
    let served: f64 = (0..3)
        .filter(|&i| i != leader)
        .map(|i| {
            sample(
                &f,
                "vaultkeeper_vault_requests_total",
                &format!("address=\"{}\",outcome=\"success\"", c.addr(i)),
            )
        })
        .sum();
    assert!(served > 0.0, "{:?}", f.get("vaultkeeper_vault_requests"));
    // ... and the killed leader, first in this host's order, failed requests:
    // the daemon's checks were going to it when it died.
    let dead = sum_where(
        &f,
        "vaultkeeper_vault_requests_total",
        &format!(
            "address=\"{}\",outcome=\"connection_error\"",
            c.addr(leader)
        ),
    );
    assert!(dead >= 1.0, "{:?}", f.get("vaultkeeper_vault_requests"));
    let log = d.log_text();
    assert_no_cache_no_failure(&log);
}

/// (b) The node this host lists first is stopped: `fetch` uses the second,
/// without the cache, and `status` shows which address answered and each
/// address's last state. (c) All three stopped: the cache serves, as with one
/// address. (d) The cluster comes back: the daemon is on fresh data within one
/// refresh.
#[test]
fn the_first_node_down_then_all_down_then_recovery() {
    let c = Cluster::start(3);
    let want = put_secrets(&c, 5, 1);
    let textfile_dir = tempfile::tempdir().unwrap();
    let textfile = textfile_dir.path().join("vaultkeeper.prom");
    // One host runs one-shot fetches, the other the daemon.
    let (host, spec) = ha_host(&c, 5, json!({}));
    let (dhost, dspec) = ha_host(
        &c,
        5,
        json!({ "refreshInterval": "2s", "metrics": { "textfile": textfile } }),
    );
    let order = host_order_of(&c);

    // (b)
    c.stop(order[0]);
    c.leader();
    let r = vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_no_cache_no_failure(&r.stderr);
    assert_all_rendered(&host, &want);
    let rec: Vec<Value> = serde_json::from_slice(
        &std::fs::read(host.state_dir().join("vault-addresses.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec[0]["address"], c.addr(order[0]).as_str());
    assert_eq!(rec[0]["lastOutcome"], "connection_error");
    assert_eq!(rec[1]["address"], c.addr(order[1]).as_str());
    assert_eq!(rec[1]["inUse"], true, "{rec:?}");
    assert_eq!(rec[1]["lastOutcome"], "success");
    let token = c.root_token.clone();
    let st = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "status", "--json"],
        &[("BAO_TOKEN", &token)],
    );
    assert_eq!(st.code, 0, "{}", st.stderr);
    let st: Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(st["server"]["address"], c.addr(order[1]).as_str());
    assert_eq!(st["addresses"][0]["preferred"], true);
    assert_eq!(st["addresses"][0]["lastOutcome"], "connection_error");
    assert!(st["addresses"][0]["lastError"]
        .as_str()
        .unwrap()
        .contains("onnection"));
    assert_eq!(st["addresses"][1]["inUse"], true);
    assert_eq!(st["addresses"][1]["lastOutcome"], "success");
    let human = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "status"],
        &[("BAO_TOKEN", &token)],
    );
    assert!(
        human
            .stdout
            .contains("Vault addresses (3, in this host's order)"),
        "{}",
        human.stdout
    );

    // The daemon, on the two live nodes.
    let d = Daemon::start(&dspec, &[]);
    wait_for("the daemon's first pass", Duration::from_secs(30), || {
        let f = metrics(&textfile)?;
        (sum_where(
            &f,
            "vaultkeeper_secret_last_success_timestamp_seconds",
            "secret=",
        ) > 0.0)
            .then_some(())
    });

    // (c) every node stopped: the daemon keeps the files; a one-shot fetch
    // after a reboot (outputs gone) renders from the cache at once.
    for i in 0..3 {
        c.stop(i);
    }
    d.wait_log("Vault is unreachable", Duration::from_secs(15));
    wait_for(
        "every secret flagged as served from the cache",
        Duration::from_secs(15),
        || {
            let f = metrics(&textfile)?;
            (sum_where(&f, "vaultkeeper_secret_served_from_cache", "secret=") == 5.0).then_some(())
        },
    );
    assert_all_rendered(&dhost, &want);
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let t = Instant::now();
    let r = vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "rendered from the last-known-good cache");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_all_rendered(&host, &want);

    // (d) the cluster comes back with new data: fresh within one refresh.
    c.start_stopped();
    let want2 = put_secrets(&c, 5, 2);
    let t_up = Instant::now();
    wait_for(
        "the new data after the recovery",
        Duration::from_secs(30),
        || all_rendered(&dhost, &want2).then_some(()),
    );
    let took = t_up.elapsed();
    eprintln!("figures: daemon, cluster recovered: every secret on the new data {took:?} after the leader was back");
    // The outage probe backs off to the shortest refresh interval (2 s, +25 %
    // jitter), then the checks run at once: one refresh, plus slack.
    assert!(took <= Duration::from_secs(5), "{took:?} to fresh data");
    wait_for(
        "no secret flagged as from the cache",
        Duration::from_secs(10),
        || {
            let f = metrics(&textfile)?;
            (sum_where(&f, "vaultkeeper_secret_served_from_cache", "secret=") == 0.0).then_some(())
        },
    );
    let log = d.log_text();
    assert_not_logged(&log, " ERROR ");
}
