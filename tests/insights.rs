//! Insights against a real OpenBao: status, posture, version-check, reports and
//! the digest, on dev servers and on a file-storage server that is sealed,
//! unsealed and restarted with a changed config.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use support::bao::Bao;
use support::run::{vaultkeeper, Run};
use support::spec::Host;

const INSIGHTS_POLICY: &str = include_str!("../docs/policies/insights.hcl");

fn run(spec: &Path, args: &[&str], token: Option<&str>) -> Run {
    let mut all = vec!["--spec", spec.to_str().unwrap()];
    all.extend_from_slice(args);
    match token {
        Some(t) => vaultkeeper(&all, &[("VAULT_TOKEN", t)]),
        None => vaultkeeper(&all, &[]),
    }
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr))
}

/// Asserts that `text` contains `needle`, showing all of `text` when it does not.
#[track_caller]
fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{text}");
}

/// The first line of `text` that starts with `prefix`.
#[track_caller]
fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"))
}

/// The value after `label` on its line of a two-column listing.
#[track_caller]
fn field_of<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(label)?;
            rest.starts_with("  ").then(|| rest.trim())
        })
        .unwrap_or_else(|| panic!("no line {label:?} in:\n{text}"))
}

/// The values of these labelled lines start in the same column.
#[track_caller]
fn assert_aligned(text: &str, labels: &[&str]) {
    let cols: Vec<usize> = labels
        .iter()
        .map(|label| {
            let line = text
                .lines()
                .find(|l| l.strip_prefix(label).is_some_and(|r| r.starts_with("  ")))
                .unwrap_or_else(|| panic!("no line {label:?} in:\n{text}"));
            line.len() - line[label.len()..].trim_start().len()
        })
        .collect();
    assert!(
        cols.windows(2).all(|w| w[0] == w[1]),
        "columns {cols:?} not aligned:\n{text}"
    );
}

/// The string `key` of each object in the array `v`.
fn strs<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap())
        .collect()
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

fn spec_for(host: &Host, addr: &str, extra: Value) -> PathBuf {
    let mut spec = host.spec(
        addr,
        json!({ "web": { "secretPath": "hosts/web/app" }, "db": { "secretPath": "hosts/web/db" } }),
    );
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    host.write_spec(&spec)
}

/// An orphan token with exactly `policy` (HCL), made with the server's current token.
fn token_with_policy(bao: &Bao, name: &str, policy: &str) -> String {
    bao.policy_write(name, policy);
    bao.token_create(&["-orphan", "-no-default-policy", &format!("-policy={name}")])
}

/// Serves one file over HTTP on loopback for `n` requests, then stops.
struct Feed {
    url: String,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Feed {
    fn serve(body: &'static str, n: usize) -> Feed {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/repos/openbao/openbao/releases",
            l.local_addr().unwrap().port()
        );
        let handle = std::thread::spawn(move || {
            for _ in 0..n {
                let Ok((mut s, _)) = l.accept() else { return };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        Feed {
            url,
            handle: Some(handle),
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        // Unblock a waiting accept, then join.
        let port: u16 = self
            .url
            .split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        for _ in 0..8 {
            let _ = std::net::TcpStream::connect(("127.0.0.1", port));
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

const FEED: &str = include_str!("fixtures/openbao-releases.json");

#[test]
fn status_shows_server_token_and_each_secrets_state() {
    let bao = Bao::dev();
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));
    let now = vaultkeeper::now_unix();
    vaultkeeper::save_secret_record(
        &host.state_dir(),
        "web",
        &vaultkeeper::SecretRecord {
            last_fetch: Some(now - 120),
            version: Some(3),
            from_cache_since: None,
            last_error: None,
            ..Default::default()
        },
    );
    vaultkeeper::save_secret_record(
        &host.state_dir(),
        "db",
        &vaultkeeper::SecretRecord {
            last_fetch: Some(now - 7200),
            version: Some(1),
            from_cache_since: Some(now - 3600),
            last_error: Some("Vault at x is unreachable".into()),
            ..Default::default()
        },
    );

    let r = run(&spec, &["status", "--json"], Some("root"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = json_of(&r);
    assert_eq!(s["server"]["sealed"], false);
    assert_eq!(s["server"]["initialized"], true);
    assert_eq!(s["server"]["version"], "2.7.2");
    assert_eq!(s["server"]["haEnabled"], false);
    assert_eq!(s["server"]["storageType"], "inmem");
    assert!(s["server"]["clusterName"]
        .as_str()
        .unwrap()
        .starts_with("vault-cluster-"));
    assert_eq!(s["auditDevices"], json!([]));
    assert!(s["auditWarning"]
        .as_str()
        .unwrap()
        .starts_with("NO AUDIT DEVICE"));
    assert_eq!(s["authMethods"], 1);
    assert_eq!(s["secretsEngines"], 4);
    assert_eq!(
        s["token"],
        json!({ "source": "environment", "displayName": "token", "ttlSeconds": 0, "expireTime": null, "policies": ["root"] })
    );
    assert_eq!(
        s["secrets"][0],
        json!({ "name": "db", "lastFetch": now - 7200, "version": 1, "fromCacheSince": now - 3600, "lastError": "Vault at x is unreachable", "bootCacheSince": null, "confirmedAt": null })
    );
    assert_eq!(
        s["secrets"][1],
        json!({ "name": "web", "lastFetch": now - 120, "version": 3, "fromCacheSince": null, "lastError": null, "bootCacheSince": null, "confirmedAt": null })
    );
    assert_eq!(s["notAssessed"], json!({}));

    let human = run(&spec, &["status"], Some("root"));
    assert_eq!(human.code, 0);
    assert_eq!(field_of(&human.stdout, "  state"), "unsealed");
    assert_eq!(field_of(&human.stdout, "Auth methods"), "1");
    assert_eq!(field_of(&human.stdout, "Secrets engines"), "4");
    assert!(
        field_of(&human.stdout, "Token").starts_with("token from VAULT_TOKEN, never expires"),
        "{}",
        human.stdout
    );
    assert_aligned(
        &human.stdout,
        &["Server", "  state", "  version", "Audit devices", "Token"],
    );
    assert_contains(&human.stdout, "!!! WARNING: NO AUDIT DEVICE");
    // Each secret: where its files come from now, how old the cached copy is.
    assert_eq!(
        field_of(&human.stdout, "  db").split("  ").next(),
        Some("served from cache, 2h old")
    );
    assert!(
        field_of(&human.stdout, "  web").starts_with("fetched 2 min ago"),
        "{}",
        human.stdout
    );
    assert_aligned(&human.stdout, &["  NAME", "  db", "  web"]);
    assert_contains(
        &human.stdout,
        "  db: last error: Vault at x is unreachable\n",
    );
    // The variable the token came from is named as it is.
    let bao_named = vaultkeeper(
        &["--spec", spec.to_str().unwrap(), "status"],
        &[("BAO_TOKEN", "root")],
    );
    assert!(
        field_of(&bao_named.stdout, "Token").starts_with("token from BAO_TOKEN,"),
        "{}",
        bao_named.stdout
    );

    // Without VAULT_TOKEN: the host's AppRole, which may not read sys/audit.
    let (role_id, secret_id) = bao.approle("web");
    host.write_credentials(&role_id, &secret_id);
    let s = json_of(&run(&spec, &["status", "--json"], None));
    assert_eq!(s["token"]["source"], "appRole");
    assert_eq!(s["token"]["policies"], json!(["default", "host-web"]));
    assert_eq!(s["auditDevices"], Value::Null);
    assert_eq!(
        s["notAssessed"]["auditDevices"],
        "permission denied on sys/audit (see docs/policies/insights.hcl)"
    );
    assert_eq!(s["authMethods"], Value::Null);
}

#[test]
fn a_socket_audit_device_alone_is_a_loud_warning() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // Drain whatever OpenBao sends, on every connection, until the test ends.
    l.set_nonblocking(true).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let drain = std::thread::spawn(move || {
        let mut conns = Vec::new();
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((s, _)) = l.accept() {
                s.set_nonblocking(true).unwrap();
                conns.push(s);
            }
            let mut buf = [0u8; 65536];
            for c in &mut conns {
                let _ = c.read(&mut buf);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    let bao = Bao::dev_with_config(&format!("audit \"socket\" \"alerts\" {{\n  options = {{ address = \"127.0.0.1:{port}\", socket_type = \"tcp\" }}\n}}\n"));
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));
    let s = json_of(&run(&spec, &["status", "--json"], Some("root")));
    assert_eq!(
        s["auditDevices"],
        json!([{ "path": "alerts/", "type": "socket" }])
    );
    assert!(
        s["auditWarning"]
            .as_str()
            .unwrap()
            .starts_with("A SOCKET AUDIT DEVICE HAS NO FILE DEVICE BESIDE IT"),
        "{s}"
    );
    let p = json_of(&run(&spec, &["posture", "--json"], Some("root")));
    assert_eq!(finding(&p, "audit_devices")["points"], 15);
    assert_eq!(finding(&p, "audit_redundancy")["points"], 0);
    assert!(finding(&p, "audit_redundancy")["evidence"][1]
        .as_str()
        .unwrap()
        .contains("no file device beside it"));
    drop(bao);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drain.join().unwrap();
}

/// A root token made the way operators make one: `bao operator generate-root`.
fn generate_root(bao: &Bao, admin: &str) -> String {
    let otp = bao.cli_json_as(admin, &["operator", "generate-root", "-generate-otp"])["otp"]
        .as_str()
        .unwrap()
        .to_string();
    let init = bao.cli_json_as(
        admin,
        &["operator", "generate-root", "-init", &format!("-otp={otp}")],
    );
    let nonce = init["nonce"].as_str().unwrap().to_string();
    let done = bao.cli_json_as(
        admin,
        &[
            "operator",
            "generate-root",
            &format!("-nonce={nonce}"),
            bao.unseal_key.as_deref().unwrap(),
        ],
    );
    let encoded = done["encoded_token"]
        .as_str()
        .or(done["encoded_root_token"].as_str())
        .unwrap()
        .to_string();
    let decoded = bao.cli_json_as(
        admin,
        &[
            "operator",
            "generate-root",
            &format!("-decode={encoded}"),
            &format!("-otp={otp}"),
        ],
    );
    let token = decoded["token"].as_str().unwrap().to_string();
    support::run::register_secret(&token);
    token
}

#[test]
fn findings_follow_the_configuration_on_a_real_server() {
    let one = "audit \"file\" \"a\" {\n  options = { file_path = \"{dir}/audit-a.log\" }\n}\n";
    let two = format!(
        "{one}audit \"file\" \"b\" {{\n  options = {{ file_path = \"{{dir}}/audit-b.log\" }}\n}}\n"
    );
    let mut bao = Bao::raft_with_config(one);
    let admin = token_with_policy(&bao, "admin", "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n");
    // No root token left: the initial one is revoked, as the hardening guides say.
    bao.cli(&["token", "revoke", "-self"]);
    bao.token = admin.clone();
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));

    let before = json_of(&run(&spec, &["posture", "--json"], Some(&admin)));
    assert_eq!(
        finding(&before, "audit_devices")["points"],
        15,
        "{before}\n{}",
        bao.log_text()
    );
    assert_eq!(finding(&before, "audit_redundancy")["points"], 0);
    assert_eq!(finding(&before, "audit_redundancy")["outcome"], "fail");
    assert_eq!(finding(&before, "root_tokens")["outcome"], "pass");
    assert_eq!(
        finding(&before, "root_tokens")["evidence"][0],
        "1 token(s) looked up, 0 with the root policy"
    );
    assert_eq!(
        finding(&before, "ha")["evidence"][0],
        "HA enabled, 1 node(s) in the cluster"
    );
    assert_eq!(finding(&before, "ha")["points"], 2);
    assert_eq!(
        (
            finding(&before, "policies")["outcome"].as_str(),
            finding(&before, "policies")["points"].as_u64()
        ),
        (Some("warn"), Some(5)),
        "default is fine, admin is not"
    );
    assert!(finding(&before, "policies")["evidence"][1]
        .as_str()
        .unwrap()
        .starts_with("policy admin: path \"*\" matches every mount"));

    // A second audit device (config only: OpenBao 2.x refuses it over the API).
    bao.restart_with(&two);
    let after = json_of(&run(&spec, &["posture", "--json"], Some(&admin)));
    assert_eq!(finding(&after, "audit_redundancy")["points"], 5);
    assert_eq!(
        finding(&after, "audit_redundancy")["evidence"][0],
        "2 audit device(s): a/ (file), b/ (file)"
    );
    assert!(
        after["score"].as_u64().unwrap() > before["score"].as_u64().unwrap(),
        "{} then {}",
        before["score"],
        after["score"]
    );

    // A new root token is a finding, with the evidence to revoke it.
    let _root = generate_root(&bao, &admin);
    let with_root = json_of(&run(&spec, &["posture", "--json"], Some(&admin)));
    let f = finding(&with_root, "root_tokens");
    assert_eq!(
        (f["outcome"].as_str(), f["points"].as_u64()),
        (Some("fail"), Some(0))
    );
    assert_eq!(
        f["evidence"][0],
        "2 token(s) looked up, 1 with the root policy"
    );
    assert!(
        f["evidence"][1]
            .as_str()
            .unwrap()
            .starts_with("root token \"root\" (accessor "),
        "{f}"
    );
    assert!(f["fix"]
        .as_str()
        .unwrap()
        .contains("bao token revoke -accessor"));
    assert_eq!(with_root["assessedWeight"], after["assessedWeight"]);
    assert!(
        with_root["score"].as_u64().unwrap() < after["score"].as_u64().unwrap(),
        "the root finding costs its 15 points: {} then {}",
        after["score"],
        with_root["score"]
    );

    // Sealed: status says so and exits 20; posture refuses with 20.
    bao.seal();
    let r = run(&spec, &["status", "--json"], Some(&admin));
    assert_eq!(r.code, 20, "{}", r.stderr);
    let s = json_of(&r);
    assert_eq!(s["server"]["sealed"], true);
    assert_eq!(s["notAssessed"]["token"], "the server is sealed");
    let human = run(&spec, &["status"], Some(&admin));
    assert_eq!(human.code, 20);
    assert_eq!(field_of(&human.stdout, "  state"), "SEALED");
    let p = run(&spec, &["posture"], Some(&admin));
    assert_eq!(p.code, 20);
    assert_contains(
        &p.stderr,
        &format!("Vault at {} is sealed: unseal it", bao.addr),
    );
    bao.unseal();
    assert_eq!(run(&spec, &["status"], Some(&admin)).code, 0);
}

#[test]
fn the_insights_policy_assesses_every_check_and_report() {
    let bao = Bao::dev_with_config(
        "audit \"file\" \"local\" {\n  options = { file_path = \"stdout\" }\n}\n",
    );
    bao.approle("web");
    bao.cli(&["auth", "enable", "userpass"]);
    bao.cli(&["write", "secret/config", "max_versions=5"]);
    let token = token_with_policy(&bao, "vaultkeeper-insights", INSIGHTS_POLICY);
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));
    let p = json_of(&run(&spec, &["posture", "--json"], Some(&token)));
    let outcomes: Vec<(String, String)> = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(p["notAssessed"], 0, "{outcomes:?}\n{p}");
    let not_applicable: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o == "notApplicable")
        .map(|(i, _)| i.as_str())
        .collect();
    assert_eq!(
        not_applicable,
        vec!["tls_certificate_expiry"],
        "plain HTTP has no certificate"
    );
    assert_eq!(
        finding(&p, "kv_max_versions")["evidence"][0],
        "secret/: max_versions 5 (keeps 5)"
    );
    assert_eq!(
        finding(&p, "lease_ttls")["evidence"][0],
        "token store: default_lease_ttl 32d, max_lease_ttl 32d"
    );
    assert_eq!(
        finding(&p, "approle_roles")["evidence"][1],
        "role approle/web: secret_id_ttl=0 (secret-ids never expire); no CIDR binding"
    );
    let ids: Vec<&str> = outcomes.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "audit_devices",
            "audit_redundancy",
            "tls",
            "tls_certificate_expiry",
            "root_tokens",
            "lease_ttls",
            "approle_roles",
            "kv_max_versions",
            "policies",
            "ha",
            "version_age"
        ]
    );
    assert_eq!(p["totalWeight"], 100);

    let s = json_of(&run(&spec, &["status", "--json"], Some(&token)));
    assert_eq!(s["notAssessed"], json!({}), "{s}");
    let l = json_of(&run(&spec, &["report", "leases", "--json"], Some(&token)));
    assert_eq!(l["notAssessed"], json!({}), "{l}");
    let u = json_of(&run(&spec, &["report", "usage", "--json"], Some(&token)));
    assert_eq!(u["notAssessed"], json!({}), "{u}");
    // It cannot read a secret value.
    bao.kv_put("hosts/web/app", &json!({ "k": "v" }));
    let out = bao.cli_as(&token, &["kv", "get", "secret/hosts/web/app"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied"));
}

#[test]
fn a_token_without_rights_gets_not_assessed_never_a_crash() {
    let bao = Bao::dev();
    let token = token_with_policy(
        &bao,
        "nothing",
        "path \"secret/data/nothing\" { capabilities = [\"read\"] }\n",
    );
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));
    let r = run(&spec, &["posture", "--json"], Some(&token));
    // The report is printed, but a score made only of the checks that need no
    // rights says nothing about the server: exit 4 and a message saying why.
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        "every check that needs the token was denied (7 not assessed), so the score says nothing about the server; check that the token is valid",
    );
    let p = json_of(&r);
    let na: Vec<&str> = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "notAssessed")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        na,
        vec![
            "audit_devices",
            "audit_redundancy",
            "root_tokens",
            "lease_ttls",
            "approle_roles",
            "kv_max_versions",
            "policies"
        ]
    );
    for id in &na {
        let e = finding(&p, id)["evidence"][0].as_str().unwrap();
        assert!(e.starts_with("permission denied on "), "{id}: {e}");
    }
    // What needs no rights is still assessed: TLS, HA, version age.
    assert_eq!(p["assessedWeight"], 15 + 5 + 5);
    assert_eq!(p["notAssessed"], 7);
    assert!(p["score"].is_u64());
    let human = run(&spec, &["posture"], Some(&token));
    assert_contains(&human.stdout, "[NOT ASSESSED] At least one audit device — 0/15 (audit_devices)\n    seen: permission denied on sys/audit");
    let l = json_of(&run(&spec, &["report", "leases", "--json"], Some(&token)));
    assert_eq!(l["headline"], "leases not assessed, tokens not assessed");
    let u = run(&spec, &["report", "usage", "--json"], Some(&token));
    assert_eq!(u.code, 0);
    assert_eq!(json_of(&u)["entities"], Value::Null);
}

#[test]
fn version_check_against_a_recorded_feed() {
    let bao = Bao::dev();
    let host = Host::new();
    let feed = Feed::serve(FEED, 2);
    let spec = spec_for(
        &host,
        &bao.addr,
        json!({ "insights": { "versionFeed": feed.url } }),
    );
    let r = run(&spec, &["version-check", "--json"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json_of(&r);
    assert_eq!(v["serverVersion"], "2.7.2");
    assert_eq!(v["feed"], feed.url);
    assert_eq!(v["updateAvailable"], true);
    assert_eq!(v["latestVersion"], "2.8.0");
    assert_eq!(v["latestPublishedAt"], "2026-12-17T11:30:00Z");
    assert_eq!(v["versionsBehind"], 2);
    assert_eq!(v["daysBehind"], 51);
    assert_eq!(v["newer"][0]["version"], "2.8.0");
    assert!(v["newer"][0]["headline"]
        .as_str()
        .unwrap()
        .starts_with("Namespaces: sealable namespaces and per-namespace audit devices"));
    assert_eq!(
        v["newer"][1],
        json!({ "version": "2.7.3", "publishedAt": "2026-11-20T10:15:42Z", "headline": "Security fix release" })
    );
    // --feed wins over the spec; human text.
    let r = run(&spec, &["version-check", "--feed", &feed.url], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("Update available: 2.7.2 → 2.8.0 (2 newer release(s), 51 days behind)\n  2.8.0      2026-12-17  Namespaces"), "{}", r.stdout);
    assert_contains(&r.stdout, "  2.7.3      2026-11-20  Security fix release\n");
    drop(feed);
    // A feed that does not answer: exit 6 and what to do.
    let dead = format!("http://127.0.0.1:{}/releases", support::bao::free_port());
    let r = run(&spec, &["version-check", "--feed", &dead], None);
    assert_eq!(r.code, 6);
    assert_contains(&r.stderr, &format!("cannot read the release feed {dead}"));
    assert!(r
        .stderr
        .contains("pass another with --feed URL or set insights.versionFeed"));
}

#[test]
fn lease_report_counts_by_mount_and_bucket() {
    let bao = Bao::dev();
    for ttl in ["30m", "2h", "48h", "240h"] {
        bao.token_create(&[
            "-policy=default",
            &format!("-ttl={ttl}"),
            &format!("-display-name=t{ttl}"),
        ]);
    }
    // Tokens are listed by creation second, then by (random) accessor: make the breakglass
    // token in a later second than the root token, so the order below is always the same.
    let root_created = bao.cli_json(&["token", "lookup"])["data"]["creation_time"]
        .as_u64()
        .unwrap();
    while vaultkeeper::now_unix() <= root_created {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    bao.token_create(&["-policy=root", "-display-name=breakglass"]);
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));
    let r = run(&spec, &["report", "leases", "--json"], Some("root"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let l = json_of(&r);
    assert_eq!(l["totalLeases"], 6);
    assert_eq!(
        l["byMount"],
        json!({ "auth/token/": { "<1h": 1, "1h-24h": 1, "1d-7d": 1, "7d-30d": 1, ">30d": 0, "no expiry": 2 } })
    );
    assert_eq!(l["totalTokens"], 6);
    assert_eq!(
        strs(&l["tokensWithoutExpiry"], "displayName"),
        vec!["token", "token-breakglass"]
    );
    assert_eq!(l["longestTokens"][0]["displayName"], "token-t240h");
    assert_eq!(l["longestTokens"].as_array().unwrap().len(), 4);
    assert_eq!(
        l["headline"],
        "6 leases (2 over 30 days or without expiry), 6 tokens (2 without expiry)"
    );
    let human = run(&spec, &["report", "leases"], Some("root"));
    let header = line_starting(&human.stdout, "  MOUNT ");
    let row = line_starting(&human.stdout, "  auth/token/ ");
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["MOUNT", "<1h", "1h-24h", "1d-7d", "7d-30d", ">30d", "no", "expiry"]
    );
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["auth/token/", "1", "1", "1", "1", "0", "2"]
    );
    // Every count starts in its header's column.
    let starts = |l: &str| {
        l.char_indices()
            .filter(|&(i, c)| c != ' ' && (i == 0 || l[..i].ends_with("  ")))
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    assert_eq!(starts(header), starts(row), "{}", human.stdout);
    let tokens = line_starting(&human.stdout, "  TOKEN ");
    assert_eq!(
        tokens.split_whitespace().collect::<Vec<_>>(),
        ["TOKEN", "EXPIRY", "POLICIES", "CREATED", "VIA"]
    );
}

#[test]
fn usage_report_with_and_without_the_audit_listener() {
    let bao = Bao::dev();
    bao.cli(&["auth", "enable", "userpass"]);
    for p in ["a/one", "a/two", "b"] {
        bao.kv_put(p, &json!({ "k": "v" }));
    }
    bao.token_create(&["-policy=default", "-ttl=720h", "-display-name=ci"]);
    let host = Host::new();
    let spec = spec_for(&host, &bao.addr, json!({}));
    let u = json_of(&run(&spec, &["report", "usage", "--json"], Some("root")));
    assert_eq!(u["secretsByMount"], json!({ "secret/": 3 }));
    assert_eq!(u["tokens"], 2);
    assert_eq!(u["tokensByPath"], json!({ "auth/token/create": 2 }));
    assert_eq!(u["entities"], 0);
    assert_eq!(u["audit"], Value::Null);
    assert_eq!(u["auditListener"], "audit listener not running");
    assert_eq!(
        strs(&u["suggestions"], "id"),
        vec![
            "static_tokens",
            "userpass_without_mfa",
            "unused_auth_method"
        ]
    );
    assert!(u["suggestions"][0]["evidence"][0]
        .as_str()
        .unwrap()
        .starts_with("token \"token-ci\" (accessor "));
    assert_eq!(u["suggestions"][1]["evidence"][0], "userpass/ is enabled with 0 live token(s); identity/mfa/login-enforcement lists no enforcement");

    std::fs::create_dir_all(host.state_dir().join("audit")).unwrap();
    std::fs::write(
        host.state_dir().join("audit/stats.json"),
        r#"{"time":"2026-11-22T08:00:00.000Z","connections":2,"open_connections":1,"bytes_read":100,"lines_read":8,"dropped":{"too_long":0,"invalid_utf8":0,"partial":0,"empty":0,"not_json":0,"duplicate":0,"overload":0},"entries":8,"alerts":{},"requests_by_type":{"request":4,"response":4},"requests_by_operation":{"read":3,"update":1},"requests_by_path_prefix":{"secret/data":3,"auth/userpass":1},"requests_by_auth_method":{"root":2,"approle":1},"outbox":0,"delivered":0}"#,
    )
    .unwrap();
    let r = run(&spec, &["report", "usage", "--json"], Some("root"));
    let u = json_of(&r);
    assert_eq!(u["auditListener"], "running");
    assert_eq!(
        u["audit"]["requests_by_operation"],
        json!({ "read": 3, "update": 1 })
    );
    assert_eq!(
        strs(&u["suggestions"], "id"),
        vec!["static_tokens", "userpass_without_mfa", "root_token_in_use"],
        "a login seen in the audit counters means userpass is used"
    );
    let human = run(&spec, &["report", "usage"], Some("root"));
    assert_contains(&human.stdout, "Requests (audit listener, 8 entries since 2026-11-22T08:00:00.000Z)\n  read                         3\n");
}

#[test]
fn digest_payload_records_the_score_change() {
    let bao = Bao::dev();
    let host = Host::new();
    let feed = Feed::serve(FEED, 3);
    let spec = spec_for(
        &host,
        &bao.addr,
        json!({ "insights": {
            "digest": "weekly",
            "versionFeed": feed.url,
            // Only the daemon posts; `digest` prints.
            "slack": { "webhookUrlFile": "/run/secrets/slack-ops/webhook-url" },
        } }),
    );
    let texts = |r: &Run| -> Vec<String> {
        assert_eq!(r.code, 0, "{}", r.stderr);
        json_of(r)["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["text"]["text"].as_str().map(str::to_string))
            .collect()
    };
    let first = texts(&run(&spec, &["digest"], Some("root")));
    let posture = first.iter().find(|t| t.starts_with("*Posture* ")).unwrap();
    assert!(posture.contains("/100 (first digest)"), "{posture}");
    assert!(
        first.contains(
            &"*Updates* 2.7.2 → 2.8.0 available (2 release(s), 51 days behind)".to_string()
        ),
        "{first:?}"
    );
    assert!(
        first.iter().any(|t| t.starts_with(
            "*Leases* 1 leases (1 over 30 days or without expiry), 1 tokens (1 without expiry)"
        )),
        "{first:?}"
    );
    let last: Value = serde_json::from_slice(
        &std::fs::read(host.state_dir().join("insights/last-digest.json")).unwrap(),
    )
    .unwrap();
    let score = last["score"].as_u64().unwrap();
    let second = texts(&run(&spec, &["digest"], Some("root")));
    assert!(
        second
            .iter()
            .any(|t| t.starts_with(&format!("*Posture* {score}/100 (unchanged)"))),
        "{second:?}"
    );
    std::fs::write(
        host.state_dir().join("insights/last-digest.json"),
        json!({ "score": score - 7, "sentAt": 1 }).to_string(),
    )
    .unwrap();
    let third = texts(&run(&spec, &["digest"], Some("root")));
    assert!(
        third
            .iter()
            .any(|t| t.starts_with(&format!("*Posture* {score}/100 (+7 since the last digest)"))),
        "{third:?}"
    );
}

#[test]
fn tls_listener_and_certificate_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "20",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tls_port = support::bao::free_port();
    let bao = Bao::dev_with_config(&format!(
        "listener \"tcp\" {{\n  address = \"127.0.0.1:{tls_port}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n}}\n",
        cert.display(),
        key.display()
    ));
    let host = Host::new();
    let addr = format!("https://127.0.0.1:{tls_port}");
    let spec = spec_for(&host, &addr, json!({}));
    let mut s: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    // The certificate is its own CA, which webpki refuses as a leaf: skip verification
    // (the expiry probe reads the certificate either way).
    s["vault"]["skipVerify"] = json!(true);
    std::fs::write(&spec, s.to_string()).unwrap();
    let r = run(&spec, &["posture", "--json"], Some("root"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = json_of(&r);
    assert_eq!(finding(&p, "tls")["outcome"], "pass");
    let exp = finding(&p, "tls_certificate_expiry");
    assert_eq!(
        (exp["outcome"].as_str(), exp["points"].as_u64()),
        (Some("warn"), Some(2)),
        "{exp}"
    );
    let e = exp["evidence"][0].as_str().unwrap();
    assert!(
        e.starts_with("certificate CN=localhost expires ")
            && (e.ends_with("(19 days from now)") || e.ends_with("(20 days from now)")),
        "{e}"
    );
    drop(bao);
}
