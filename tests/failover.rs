//! Several `vault.address`es: `vaultkeeper fetch` against fake Vault nodes that
//! are dead, sealed, electing, denying or redirecting. (The same against a real
//! 3-node OpenBao raft cluster: tests/ha.rs.)
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::bao::free_port;
use support::fake::{vault_like, Fake, Reply};
use support::logged::{assert_logged, assert_not_logged};
use support::run::{secret, vaultkeeper, Run};
use support::spec::{files, Host};
use vaultkeeper::host_order;

fn fetch(spec: &Path) -> Run {
    vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[])
}

/// The list to write in the spec so that this machine tries `wanted` in that
/// order (the order is the list rotated by a hash of the host name).
fn listed_for_order(wanted: &[String]) -> Vec<String> {
    let host = vaultkeeper::hostname();
    (0..wanted.len())
        .map(|k| {
            let mut l = wanted.to_vec();
            l.rotate_left(k);
            l
        })
        .find(|l| host_order(l, &host) == wanted)
        .expect("some rotation gives the wanted order")
}

/// A host with credentials and one secret `app`; `vault.address` is `list`.
fn host_for(list: &[String]) -> (Host, PathBuf) {
    let host = Host::new();
    host.write_credentials("fake-role-id", &secret("secretid"));
    let mut spec = host.spec(
        "http://unused",
        json!({ "app": { "secretPath": "hosts/h1/app" } }),
    );
    spec["vault"]["address"] = json!(list);
    let path = host.write_spec(&spec);
    (host, path)
}

/// A loopback address where nothing listens (connection refused).
fn dead_addr() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

fn recorded(host: &Host) -> Vec<Value> {
    let p = host.state_dir().join("vault-addresses.json");
    serde_json::from_slice::<Vec<Value>>(&std::fs::read(&p).unwrap()).unwrap()
}

fn state_of<'a>(rec: &'a [Value], addr: &str) -> &'a Value {
    rec.iter()
        .find(|a| a["address"] == addr)
        .unwrap_or_else(|| panic!("{addr} not recorded: {rec:?}"))
}

#[test]
fn a_dead_and_a_sealed_node_are_passed_over_for_the_one_that_answers() {
    let pw = secret("pw");
    let sealed = Fake::http(|_| Reply::Json(503, json!({ "errors": ["Vault is sealed"] })));
    let good = Fake::http(vault_like(secret("token"), json!({ "pw": pw }), |_| None));
    let dead = dead_addr();
    let order = vec![dead.clone(), sealed.addr.clone(), good.addr.clone()];
    let (host, spec) = host_for(&listed_for_order(&order));
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&host.out("app"))["pw"], pw);
    assert_not_logged(&r.stderr, "last-known-good cache");
    // The sealed node was asked once (the login); once the third answered, every
    // later request went straight there.
    assert_eq!(sealed.requests().len(), 1, "{:?}", sealed.requests());
    let on_good: Vec<String> = good.requests().into_iter().map(|q| q.path).collect();
    assert!(on_good.iter().any(|p| p.ends_with("/login")), "{on_good:?}");
    assert!(
        on_good.iter().any(|p| p.contains("hosts/h1/app")),
        "{on_good:?}"
    );
    // What `status` shows: which address is in use and each one's last state.
    let rec = recorded(&host);
    assert_eq!(
        rec.iter()
            .map(|a| a["address"].as_str().unwrap())
            .collect::<Vec<_>>(),
        order.iter().map(String::as_str).collect::<Vec<_>>(),
        "recorded in this host's order"
    );
    let d = state_of(&rec, &dead);
    assert_eq!(d["preferred"], true);
    assert_eq!(d["inUse"], false);
    assert_eq!(d["lastOutcome"], "connection_error");
    assert!(
        d["lastError"].as_str().unwrap().contains("connection"),
        "{d}"
    );
    let s = state_of(&rec, &sealed.addr);
    assert_eq!(s["lastOutcome"], "unavailable");
    assert!(s["lastError"].as_str().unwrap().contains("503"), "{s}");
    let g = state_of(&rec, &good.addr);
    assert_eq!(g["inUse"], true);
    assert_eq!(g["lastOutcome"], "success");
    assert!(
        g["lastOkAt"].as_u64().is_some() && g["lastError"].is_null(),
        "{g}"
    );
}

#[test]
fn an_answer_that_is_not_a_failure_is_final_and_a_standby_redirect_goes_to_listed_nodes_only() {
    // The preferred node denies the read: another node of the cluster would say
    // the same, so nothing is sent to the second one.
    let second = Fake::http(vault_like(secret("token"), json!({ "pw": "x" }), |_| None));
    let denying = Fake::http(vault_like(secret("token"), json!({}), |req| {
        req.path
            .starts_with("/v1/secret/")
            .then(|| Reply::Json(403, json!({ "errors": ["permission denied"] })))
    }));
    let order = vec![denying.addr.clone(), second.addr.clone()];
    let (host, spec) = host_for(&listed_for_order(&order));
    let r = fetch(&spec);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(second.connections(), 0, "{:?}", second.requests());
    assert!(!host.out("app").exists());

    // A standby that redirects every request to the active node, which is
    // listed: followed (method and body kept), and counted against that node.
    let pw = secret("pw");
    let active = Fake::http(vault_like(secret("token"), json!({ "pw": pw }), |_| None));
    let to = active.addr.clone();
    let standby = Fake::http(move |req| Reply::Redirect(307, format!("{to}{}", req.path)));
    let order = vec![standby.addr.clone(), active.addr.clone()];
    let (host, spec) = host_for(&listed_for_order(&order));
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&host.out("app"))["pw"], pw);
    let logins: Vec<_> = active
        .requests()
        .into_iter()
        .filter(|q| q.path.ends_with("/login"))
        .collect();
    assert_eq!(logins.len(), 1);
    assert!(!logins[0].body.is_empty(), "the login body went along");

    // The same standby redirecting to a node that is NOT listed: refused, and
    // that node hears nothing.
    let elsewhere = Fake::http(|_| Reply::Empty(200));
    let to = elsewhere.addr.clone();
    let standby = Fake::http(move |req| Reply::Redirect(307, format!("{to}{}", req.path)));
    let order = vec![standby.addr.clone(), active.addr.clone()];
    let (_host, spec) = host_for(&listed_for_order(&order));
    let r = fetch(&spec);
    assert_eq!(r.code, 32, "{}", r.stderr);
    assert_logged(&r.stderr, "REFUSED a redirect");
    assert_eq!(elsewhere.connections(), 0);
}

#[test]
fn when_no_address_answers_the_cache_serves_at_once_and_the_error_names_each() {
    let pw = secret("pw");
    let good = Fake::http(vault_like(secret("token"), json!({ "pw": pw }), |_| None));
    let (d1, d2) = (dead_addr(), dead_addr());
    let order = vec![d1.clone(), d2.clone(), good.addr.clone()];
    let (host, spec) = host_for(&listed_for_order(&order));
    assert_eq!(fetch(&spec).code, 0);
    drop(good);
    std::fs::remove_dir_all(host.path("run")).unwrap();
    let t = Instant::now();
    let r = fetch(&spec);
    let took = t.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_logged(&r.stderr, "rendered from the last-known-good cache");
    for a in &order {
        assert!(r.stderr.contains(a.as_str()), "{a} not named: {}", r.stderr);
    }
    assert_eq!(files(&host.out("app"))["pw"], pw);
    // Nothing answered: no waiting for an election (vault.timeout is 3 s here).
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn standbys_without_a_leader_are_asked_again_until_one_serves() {
    // The preferred node is dead; the others say 500/503 (no active node yet)
    // for their first requests, as standbys do while the cluster elects.
    let pw = secret("pw");
    let dead = dead_addr();
    let electing = |n: usize, pw: String| {
        let seen = Arc::new(AtomicUsize::new(0));
        let ok = vault_like(secret("token"), json!({ "pw": pw }), |_| None);
        let s = seen.clone();
        Fake::http(move |req| {
            if s.fetch_add(1, Ordering::SeqCst) < n {
                Reply::Json(
                    500,
                    json!({ "errors": ["local node not active but active cluster node not found"] }),
                )
            } else {
                ok(req)
            }
        })
    };
    let a = electing(3, pw.clone());
    let b = electing(3, pw.clone());
    let order = vec![dead.clone(), a.addr.clone(), b.addr.clone()];
    let (host, spec) = host_for(&listed_for_order(&order));
    let r = fetch(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_not_logged(&r.stderr, "last-known-good cache");
    assert_eq!(files(&host.out("app"))["pw"], pw);
    assert!(a.requests().len() > 3 || b.requests().len() > 3);
}
