//! docs/reference/cli.md is what the binary does: every `console` example on the
//! page is run and compared with what vaultkeeper prints, and every code of the
//! exit-code table is provoked with the commands the table names.
//!
//! A hand-written runner rather than `trycmd`: the examples need a live OpenBao
//! dev server, a bootstrapped host and an outage set up per block
//! (`console scenario=dev|outage`), which trycmd's markdown mode cannot provide.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::bao::Bao;
use support::fake::{vault_like, Fake, Pki, Reply};
use support::run::{assert_no_secret_in, register_secret, secret, Run};
use support::spec::Host;

const CLI_MD: &str = include_str!("../docs/reference/cli.md");
/// The address and directory the examples show.
const DOC_ADDR: &str = "http://127.0.0.1:8200";
const DOC_ROOT: &str = "/var/lib/example";

struct Example {
    scenario: String,
    line: usize,
    commands: Vec<(String, Vec<String>, i32)>,
}

/// The `console` blocks of cli.md: `$ [VAR=value ...] vaultkeeper ARGS`, the
/// expected output lines, `? CODE`.
fn examples() -> Vec<Example> {
    let mut out = Vec::new();
    let mut lines = CLI_MD.lines().enumerate();
    while let Some((n, l)) = lines.next() {
        let Some(info) = l.strip_prefix("```console") else {
            continue;
        };
        let scenario = info
            .trim()
            .strip_prefix("scenario=")
            .unwrap_or("none")
            .to_string();
        let mut ex = Example {
            scenario,
            line: n + 1,
            commands: Vec::new(),
        };
        let mut cur: Option<(String, Vec<String>)> = None;
        for (_, l) in lines.by_ref() {
            if l == "```" {
                break;
            }
            if let Some(cmd) = l.strip_prefix("$ ") {
                cur = Some((cmd.to_string(), Vec::new()));
            } else if let Some(code) = l.strip_prefix("? ") {
                let (cmd, expected) = cur.take().expect("`? N` after a `$` line");
                ex.commands.push((cmd, expected, code.parse().unwrap()));
            } else if let Some((_, expected)) = cur.as_mut() {
                expected.push(l.to_string());
            }
        }
        assert!(cur.is_none(), "cli.md:{}: a command without `? N`", ex.line);
        out.push(ex);
    }
    out
}

/// `line` matches `pattern`, where `[..]` matches anything.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let Some(mut rest) = line.strip_prefix(parts[0]) else {
        return false;
    };
    for (i, p) in parts.iter().enumerate().skip(1) {
        if i == parts.len() - 1 {
            return rest.ends_with(p);
        }
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    true
}

/// The world an example runs in.
struct World {
    host: Host,
    bao: Option<Bao>,
}

impl World {
    fn new(scenario: &str) -> World {
        let host = Host::new();
        if scenario == "none" {
            return World { host, bao: None };
        }
        let mut bao = Bao::dev();
        bao.kv_put("hosts/web01/app", &json!({ "password": secret("app") }));
        bao.kv_put("hosts/web01/db", &json!({ "password": secret("db") }));
        let (role_id, secret_id) = bao.approle("web01");
        host.write_credentials(&role_id, &secret_id);
        let spec = host.spec(
            &bao.addr,
            json!({ "app": { "secretPath": "hosts/web01/app" }, "db": { "secretPath": "hosts/web01/db" } }),
        );
        let spec = host.write_spec(&spec);
        let r = support::run::vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        if scenario == "outage" {
            bao.stop();
            // Vault down: the next fetch renders from the cache.
            let r = support::run::vaultkeeper(&["--spec", spec.to_str().unwrap(), "fetch"], &[]);
            assert_eq!(r.code, 0, "{}", r.stderr);
        } else {
            assert_eq!(scenario, "dev", "unknown scenario {scenario}");
        }
        World {
            host,
            bao: Some(bao),
        }
    }

    fn addr(&self) -> String {
        self.bao
            .as_ref()
            .map(|b| b.addr.clone())
            .unwrap_or_default()
    }

    /// Runs one documented command line in the host's directory.
    fn run(&self, cmdline: &str) -> Run {
        let addr = self.addr();
        let real = |s: &str| {
            if addr.is_empty() {
                s.to_string()
            } else {
                s.replace(DOC_ADDR, &addr)
            }
        };
        let mut words = cmdline.split_whitespace();
        // No timestamps, as under systemd: the examples show the log lines.
        let mut env = vec![("JOURNAL_STREAM".to_string(), "8:1".to_string())];
        for w in words.by_ref() {
            if w == "vaultkeeper" {
                break;
            }
            let (k, v) = w.split_once('=').expect("VAR=value before vaultkeeper");
            env.push((k.to_string(), real(v)));
        }
        let args: Vec<String> = words.map(real).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let run = support::run::vaultkeeper_bare(self.host.root.path(), &args, &env);
        assert_no_secret_in(&run.stdout, "stdout");
        run
    }

    /// What the page shows: the real address and directory replaced.
    fn as_documented(&self, text: &str) -> Vec<String> {
        let root = self.host.root.path().display().to_string();
        let addr = self.addr();
        text.lines()
            .map(|l| {
                let mut l = l.replace(&root, DOC_ROOT);
                if !addr.is_empty() {
                    l = l.replace(&addr, DOC_ADDR);
                }
                l.trim_end().to_string()
            })
            .collect()
    }
}

#[test]
fn cli_md_examples_are_what_the_binary_prints() {
    let all = examples();
    assert!(all.len() >= 6, "too few examples found in cli.md");
    let mut failures = Vec::new();
    for ex in &all {
        let world = World::new(&ex.scenario);
        for (cmdline, expected, code) in &ex.commands {
            let r = world.run(cmdline);
            let mut actual = world.as_documented(&r.stdout);
            actual.extend(
                world
                    .as_documented(&r.stderr)
                    .into_iter()
                    .map(|l| l.trim_start().to_string()),
            );
            let same = actual.len() == expected.len()
                && expected.iter().zip(&actual).all(|(p, l)| matches(p, l));
            if !same || r.code != *code {
                failures.push(format!(
                    "cli.md:{} `{cmdline}`\n--- documented (exit {code})\n{}\n--- printed (exit {})\n{}\n",
                    ex.line,
                    expected.join("\n"),
                    r.code,
                    actual.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_matcher_matches_what_it_should() {
    assert!(matches("a [..] c", "a b c"));
    assert!(matches("[..]", "anything"));
    assert!(matches("x[..]y[..]z", "x1y2z"));
    assert!(!matches("x[..]y", "x1z"));
    assert!(!matches("exact", "exact but longer"));
}

// ---------------------------------------------------------------------------
// The exit-code table.

/// code → (meaning, commands) from the table under "## Exit codes".
fn exit_table() -> BTreeMap<u8, (String, String)> {
    let section = CLI_MD
        .split("## Exit codes")
        .nth(1)
        .expect("cli.md has an Exit codes section");
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split(" | ").collect();
            let code = cells.first()?.trim().parse::<u8>().ok()?;
            Some((code, (cells[1].to_string(), cells[2].trim().to_string())))
        })
        .collect()
}

fn vk(host: &Host, args: &[&str], env: &[(&str, &str)]) -> Run {
    support::run::vaultkeeper_bare(host.root.path(), args, env)
}

fn spec_arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A host with one secret `app` at `path`, Vault at `addr`, AppRole credentials
/// of role web01 when `creds`.
fn host_with(addr: &str, path: &str, extra: serde_json::Value) -> (Host, PathBuf) {
    let host = Host::new();
    let mut app = json!({ "secretPath": path });
    for (k, v) in extra.as_object().unwrap() {
        app[k] = v.clone();
    }
    let spec = host.write_spec(&host.spec(addr, json!({ "app": app })));
    (host, spec)
}

/// Each provocation: what it is, and the run.
type Provoked = Vec<(String, Run)>;

fn provoke(code: u8) -> Provoked {
    let mut out: Provoked = Vec::new();
    let mut add = |what: &str, r: Run| out.push((what.to_string(), r));
    match code {
        0 => {
            let (host, spec) = host_with("http://127.0.0.1:1", "hosts/x", json!({}));
            add(
                "check of a valid spec",
                vk(&host, &["--spec", spec_arg(&spec), "check"], &[]),
            );
            add("--version", vk(&host, &["--version"], &[]));
        }
        2 => {
            let (host, spec) = host_with("http://127.0.0.1:1", "hosts/x", json!({}));
            let bad = host.path("bad.json");
            std::fs::write(&bad, r#"{"vault": {}}"#).unwrap();
            let s = spec_arg(&spec);
            add("an unknown flag", vk(&host, &["--no-such-flag"], &[]));
            add(
                "check of an invalid spec",
                vk(&host, &["--spec", spec_arg(&bad), "check"], &[]),
            );
            add(
                "fetch of an unknown secret",
                vk(&host, &["--spec", s, "fetch", "nosuch"], &[]),
            );
            add(
                "provision without an address",
                vk(&host, &["provision", "--host", "h"], &[]),
            );
            add(
                "provision without a token",
                vk(
                    &host,
                    &["provision", "--host", "h"],
                    &[("BAO_ADDR", "http://127.0.0.1:1")],
                ),
            );
            add(
                "audit replay of a missing file",
                vk(&host, &["audit", "replay", "missing.log"], &[]),
            );
            add(
                "audit replay of a directory",
                vk(
                    &host,
                    &["audit", "replay", host.root.path().to_str().unwrap()],
                    &[],
                ),
            );
            add(
                "audit replay with a missing --spec",
                vk(&host, &["--spec", "nope.json", "audit", "replay", "-"], &[]),
            );
            add(
                "audit listen without an audit section",
                vk(&host, &["--spec", s, "audit", "listen"], &[]),
            );
            add(
                "chat serve without a chat section",
                vk(&host, &["--spec", s, "chat", "serve"], &[]),
            );
            add(
                "run with an invalid spec",
                vk(&host, &["--spec", spec_arg(&bad), "run"], &[]),
            );
            add("status without an address", vk(&host, &["status"], &[]));
        }
        3 => {
            let bao = Bao::dev();
            let (host, spec) = host_with(&bao.addr, "hosts/web01/app", json!({}));
            add(
                "fetch without AppRole credentials",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
            add(
                "bootstrap --strict of a plain secret-id without a role-id",
                {
                    bao.approle("web01");
                    let w = bao.cli_json(&[
                        "write",
                        "-f",
                        "-wrap-ttl=60s",
                        "auth/approle/role/web01/secret-id",
                    ]);
                    let t = w["wrap_info"]["token"].as_str().unwrap().to_string();
                    register_secret(&t);
                    vk(
                        &host,
                        &["--spec", spec_arg(&spec), "bootstrap", "--strict"],
                        &[("VAULT_WRAPPED_TOKEN", &t)],
                    )
                },
            );
            add(
                "provision with a token Vault does not know",
                vk(
                    &host,
                    &["provision", "--host", "h"],
                    &[("BAO_ADDR", &bao.addr), ("BAO_TOKEN", "not-a-token")],
                ),
            );
            add(
                "posture without a token or credentials",
                vk(&host, &["--spec", spec_arg(&spec), "posture"], &[]),
            );
            add(
                "report leases without a token or credentials",
                vk(&host, &["--spec", spec_arg(&spec), "report", "leases"], &[]),
            );
        }
        4 => {
            let bao = Bao::dev();
            bao.kv_put("hosts/other/app", &json!({ "k": secret("v") }));
            let (role_id, secret_id) = bao.approle("web01");
            register_secret(&secret_id);
            let (host, spec) = host_with(&bao.addr, "hosts/other/app", json!({}));
            host.write_credentials(&role_id, &secret_id);
            add(
                "fetch of a secret the policy does not allow",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
            let weak = bao.token_create(&["-policy=default"]);
            register_secret(&weak);
            add(
                "posture with a token Vault does not know",
                vk(
                    &host,
                    &["--spec", spec_arg(&spec), "posture"],
                    &[("BAO_TOKEN", "not-a-token")],
                ),
            );
            add(
                "provision with a token that may not write policies",
                vk(
                    &host,
                    &["provision", "--host", "h"],
                    &[("BAO_ADDR", &bao.addr), ("BAO_TOKEN", &weak)],
                ),
            );
        }
        5 => {
            let bao = Bao::dev();
            let (role_id, secret_id) = bao.approle("web01");
            register_secret(&secret_id);
            let (host, spec) = host_with(&bao.addr, "hosts/web01/missing", json!({}));
            host.write_credentials(&role_id, &secret_id);
            add(
                "fetch of a secret that does not exist",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
        }
        6 => {
            let addr = format!("http://127.0.0.1:{}", support::bao::free_port());
            let (host, spec) = host_with(&addr, "hosts/web01/app", json!({}));
            let s = spec_arg(&spec);
            add(
                "bootstrap --strict without Vault",
                vk(
                    &host,
                    &["--spec", s, "bootstrap", "--strict"],
                    &[("VAULT_WRAPPED_TOKEN", "s.x")],
                ),
            );
            host.write_credentials("r", "s");
            add(
                "fetch without Vault or cache",
                vk(&host, &["--spec", s, "fetch"], &[]),
            );
            add(
                "provision without Vault",
                vk(
                    &host,
                    &["provision", "--host", "h"],
                    &[("BAO_ADDR", &addr), ("BAO_TOKEN", "t")],
                ),
            );
            add(
                "status without Vault",
                vk(&host, &["--spec", s, "status"], &[]),
            );
            add(
                "posture without Vault",
                vk(&host, &["--spec", s, "posture"], &[("BAO_TOKEN", "t")]),
            );
            add(
                "report leases without Vault",
                vk(
                    &host,
                    &["--spec", s, "report", "leases"],
                    &[("BAO_TOKEN", "t")],
                ),
            );
            add(
                "digest without Vault",
                vk(&host, &["--spec", s, "digest"], &[("BAO_TOKEN", "t")]),
            );
            add(
                "version-check without Vault",
                vk(
                    &host,
                    &["--spec", s, "version-check"],
                    &[("BAO_TOKEN", "t")],
                ),
            );
        }
        7 => {
            let bao = Bao::dev();
            bao.kv_put("hosts/web01/app", &json!({ "k": secret("v") }));
            let (role_id, secret_id) = bao.approle("web01");
            register_secret(&secret_id);
            let (host, spec) = host_with(
                &bao.addr,
                "hosts/web01/app",
                json!({ "owner": "vk-no-such-user" }),
            );
            host.write_credentials(&role_id, &secret_id);
            add(
                "fetch rendering for an unknown owner",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
        }
        8 => {
            let vault = Fake::http(vault_like(secret("token"), json!({}), |req| {
                // A login answer without a token.
                req.path
                    .ends_with("/login")
                    .then(|| Reply::Json(200, json!({ "auth": null })))
            }));
            let (host, spec) = host_with(&vault.addr, "hosts/h1/app", json!({}));
            host.write_credentials("fake-role-id", &secret("secretid"));
            add(
                "fetch of a malformed answer",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
        }
        10..=14 => {
            let bao = Bao::dev();
            let (host, spec) = host_with(&bao.addr, "hosts/x", json!({}));
            let s = spec_arg(&spec);
            let strict = |t: &str| {
                vk(
                    &host,
                    &["--spec", s, "bootstrap", "--strict"],
                    &[("VAULT_WRAPPED_TOKEN", t)],
                )
            };
            let wrapped = |args: &[&str]| {
                let w = bao.cli_json(args);
                let t = w["wrap_info"]["token"].as_str().unwrap().to_string();
                register_secret(&t);
                t
            };
            match code {
                10 => {
                    // bootstrap proves the role: the spec's approle.roleName
                    // defaults to this machine's host name.
                    let me = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
                    let r = vk(
                        &host,
                        &["provision", "--host", me.trim()],
                        &[("BAO_ADDR", &bao.addr), ("BAO_TOKEN", "root")],
                    );
                    assert_eq!(r.code, 0, "{}", r.stderr);
                    let t = r.stdout.trim().to_string();
                    register_secret(&t);
                    assert_eq!(strict(&t).code, 0);
                    std::fs::remove_file(host.path("state/approle/secret-id")).unwrap();
                    add("bootstrap --strict of a used token", strict(&t));
                }
                11 => {
                    let (role_id, _) = bao.approle("web04");
                    let t = wrapped(&[
                        "write",
                        "-f",
                        "-wrap-ttl=2s",
                        "auth/approle/role/web04/secret-id",
                    ]);
                    assert_eq!(strict(&t).code, 3, "looked up while valid, kept");
                    std::fs::create_dir_all(host.path("state/approle")).unwrap();
                    std::fs::write(host.path("state/approle/role-id"), role_id).unwrap();
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    add("bootstrap --strict of an expired token", strict(&t));
                }
                12 => {
                    let t = wrapped(&["token", "create", "-policy=default", "-wrap-ttl=60s"]);
                    add(
                        "bootstrap --strict of a token from auth/token/create",
                        strict(&t),
                    );
                }
                14 => {
                    // Another role's credentials: bootstrap checks role_name
                    // against approle.roleName (default: this host's name).
                    let r = vk(
                        &host,
                        &["provision", "--host", "not-this-host"],
                        &[("BAO_ADDR", &bao.addr), ("BAO_TOKEN", "root")],
                    );
                    assert_eq!(r.code, 0, "{}", r.stderr);
                    let t = r.stdout.trim().to_string();
                    register_secret(&t);
                    add(
                        "bootstrap --strict of another role's credentials",
                        strict(&t),
                    );
                }
                _ => {
                    add(
                        "bootstrap --strict without a token",
                        vk(&host, &["--spec", s, "bootstrap", "--strict"], &[]),
                    );
                }
            }
        }
        20 => {
            let bao = Bao::file_storage();
            let (host, spec) = host_with(&bao.addr, "hosts/x", json!({}));
            bao.seal();
            let s = spec_arg(&spec);
            let t = bao.token.clone();
            add(
                "status of a sealed server",
                vk(&host, &["--spec", s, "status"], &[("BAO_TOKEN", &t)]),
            );
            add(
                "posture of a sealed server",
                vk(&host, &["--spec", s, "posture"], &[("BAO_TOKEN", &t)]),
            );
            add(
                "report leases of a sealed server",
                vk(
                    &host,
                    &["--spec", s, "report", "leases"],
                    &[("BAO_TOKEN", &t)],
                ),
            );
        }
        30 | 31 => {
            let ours = Pki::new("ours");
            let theirs = Pki::new("theirs");
            let server = if code == 30 {
                theirs.server(&["127.0.0.1"])
            } else {
                ours.server(&["vault.example.org"])
            };
            let vault = Fake::https(server, vault_like(secret("token"), json!({}), |_| None));
            let (host, _) = host_with(&vault.addr, "hosts/h1/app", json!({}));
            let ca = host.path("ca.pem");
            std::fs::write(&ca, &ours.ca_pem).unwrap();
            let mut spec = host.spec(
                &vault.addr,
                json!({ "app": { "secretPath": "hosts/h1/app" } }),
            );
            spec["vault"]["caCert"] = json!(ca);
            let spec = host.write_spec(&spec);
            host.write_credentials("fake-role-id", &secret("secretid"));
            add(
                "fetch over TLS that must not verify",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
        }
        32 => {
            let vault = Fake::http(vault_like(secret("token"), json!({}), |req| {
                req.path.ends_with("/login").then(|| {
                    Reply::Redirect(307, "http://192.0.2.1:8200/v1/auth/approle/login".into())
                })
            }));
            let (host, spec) = host_with(&vault.addr, "hosts/h1/app", json!({}));
            host.write_credentials("fake-role-id", &secret("secretid"));
            add(
                "fetch redirected elsewhere",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
        }
        33 => {
            let vault = Fake::http(vault_like(secret("token"), json!({}), |req| {
                req.path.starts_with("/v1/secret/").then_some(Reply::Huge {
                    len: 1 << 20,
                    declared: true,
                })
            }));
            let host = Host::new();
            let mut spec = host.spec(
                &vault.addr,
                json!({ "app": { "secretPath": "hosts/h1/app" } }),
            );
            spec["vault"]["maxResponseSize"] = json!("64KiB");
            let spec = host.write_spec(&spec);
            host.write_credentials("fake-role-id", &secret("secretid"));
            add(
                "fetch of an oversized answer",
                vk(&host, &["--spec", spec_arg(&spec), "fetch"], &[]),
            );
        }
        other => panic!(
            "cli.md documents exit code {other}, and this test cannot provoke it: add it here"
        ),
    }
    out
}

#[test]
fn every_exit_code_in_the_table_is_provoked() {
    let table = exit_table();
    // The table and src/exit.rs agree.
    let consts = include_str!("../src/exit.rs");
    let defined: Vec<u8> = consts
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("pub(crate) const ")
                .or_else(|| l.strip_prefix("pub const "))?
                .split("u8 = ")
                .nth(1)?
                .trim_end_matches(';')
                .parse()
                .ok()
        })
        .collect();
    let documented: Vec<u8> = table.keys().copied().collect();
    let mut sorted = defined.clone();
    sorted.sort();
    assert_eq!(
        sorted, documented,
        "src/exit.rs and the table in cli.md differ"
    );
    // 1 is a bug, never an answer to something a user did.
    let (meaning, commands) = &table[&1];
    assert!(meaning.contains("a bug"), "{meaning}");
    assert_eq!(commands, "none by design");

    let mut failures = Vec::new();
    for (&code, (_, commands)) in &table {
        if code == 1 {
            continue;
        }
        let runs = provoke(code);
        assert!(!runs.is_empty(), "nothing provoked {code}");
        for (what, r) in runs {
            if r.code != i32::from(code) {
                failures.push(format!(
                    "{what}: expected exit {code} ({commands}), got {}:\n{}",
                    r.code, r.stderr
                ));
            }
            // The one-line rule: every ERROR line is a single line.
            for l in r.stderr.lines().filter(|l| l.contains("ERROR")) {
                assert!(
                    !l.contains("error occurred"),
                    "a Vault error list in {what}: {l}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
