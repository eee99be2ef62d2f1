//! Metrics (`metrics.textfile`, `metrics.listen`) from a real daemon against a
//! real OpenBao, parsed with Python's prometheus_client (tests/support/prom.rs).
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::bao::{free_port, Bao};
use support::daemon::Daemon;
use support::prom::{self, value};
use support::run::secret;
use support::spec::Host;
use support::wait::wait_for;

/// A fake `systemctl` that records its arguments (restarts are counted, not done).
fn fake_systemctl(host: &Host) -> String {
    let calls = host.path("systemctl.calls");
    let script = host.path("systemctl");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", calls.display()),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&script).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script.display().to_string()
}

/// GET `path` from 127.0.0.1:`port`: (status, content type, body).
fn http_get(port: u16, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let (head, body) = buf.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ctype, body.to_string())
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut l: Vec<_> = labels.to_vec();
    l.sort();
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// The textfile and the endpoint carry the same, correct values through a
/// normal cycle, a change (restart done, critical restart skipped), a missing
/// secret (render error) and an outage (served from the cache, age growing).
#[test]
fn textfile_and_endpoint_report_what_the_daemon_does() {
    let bao = Bao::dev();
    let (role_id, secret_id) = bao.approle("met");
    bao.kv_put("hosts/met/app", &json!({ "password": secret("met-app") }));
    let host = Host::new();
    host.write_credentials(&role_id, &secret_id);
    let prom_dir = host.path("textfiles");
    std::fs::create_dir(&prom_dir).unwrap();
    let textfile = prom_dir.join("vaultkeeper.prom");
    let port = free_port();
    let mut spec = host.spec(
        &bao.addr,
        json!({
            "app": {"secretPath": "hosts/met/app", "services": ["app", "db"], "refreshInterval": "1s"},
            "gone": {"secretPath": "hosts/met/gone", "refreshInterval": "1s"},
        }),
    );
    spec["criticalServices"] = json!(["db"]);
    spec["metrics"] = json!({ "textfile": textfile, "listen": format!("127.0.0.1:{port}") });
    let spec_path = host.write_spec(&spec);
    let systemctl = fake_systemctl(&host);
    let d = Daemon::start(&spec_path, &[("VAULTKEEPER_SYSTEMCTL", &systemctl)]);

    let app = |n: &str| key(n, &[("secret", "app")]);
    let gone = |n: &str| key(n, &[("secret", "gone")]);
    let fams = wait_for(
        "a textfile with app fresh and gone failed",
        Duration::from_secs(30),
        || {
            let text = std::fs::read_to_string(&textfile).ok()?;
            let f = prom::parse(&text);
            let ok = value(
                &f,
                &app("vaultkeeper_secret_last_success_timestamp_seconds"),
            )? > 0.0
                && value(&f, &gone("vaultkeeper_secret_render_errors_total"))? >= 1.0;
            ok.then_some(f)
        },
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_eq!(fams["vaultkeeper_secret_render_errors"].kind, "counter");
    assert_eq!(fams["vaultkeeper_secret_served_from_cache"].kind, "gauge");
    assert!(
        now - value(
            &fams,
            &app("vaultkeeper_secret_last_success_timestamp_seconds")
        )
        .unwrap()
            < 30.0
    );
    assert_eq!(
        value(&fams, &app("vaultkeeper_secret_served_from_cache")),
        Some(0.0)
    );
    assert!(value(&fams, &app("vaultkeeper_secret_cache_age_seconds")).unwrap() < 5.0);
    assert_eq!(
        value(&fams, &app("vaultkeeper_secret_render_errors_total")),
        Some(0.0)
    );
    assert_eq!(
        value(
            &fams,
            &gone("vaultkeeper_secret_last_success_timestamp_seconds")
        ),
        Some(0.0)
    );
    assert_eq!(value(&fams, "vaultkeeper_logins_total{}"), Some(1.0));
    assert_eq!(
        value(&fams, "vaultkeeper_login_failures_total{}"),
        Some(0.0)
    );
    assert_eq!(value(&fams, "vaultkeeper_token_valid{}"), Some(1.0));
    let ttl = value(&fams, "vaultkeeper_token_ttl_seconds{}").unwrap();
    assert!(ttl > 3000.0 && ttl <= 3600.0, "token ttl {ttl}");
    assert_eq!(
        value(
            &fams,
            &key(
                "vaultkeeper_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))]
            )
        ),
        Some(1.0)
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&textfile).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o644);

    // The endpoint serves the same families, in the classic text format.
    let (status, ctype, body) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    let over_http = prom::parse(&body);
    for name in fams.keys() {
        assert!(over_http.contains_key(name), "{name} is missing over HTTP");
    }
    assert_eq!(http_get(port, "/").0, 404);
    assert_eq!(http_get(port, "/metrics/../etc/passwd").0, 404);

    // A change: app.service is restarted once more, db.service (critical) is
    // skipped once more (the first render counted once each already).
    let restarts = key(
        "vaultkeeper_restarts_total",
        &[("unit", "app.service"), ("cause", "change")],
    );
    let skipped = key(
        "vaultkeeper_restarts_skipped_total",
        &[("unit", "db.service"), ("reason", "critical")],
    );
    let (r0, s0) = wait_for(
        "the first render's restarts counted",
        Duration::from_secs(30),
        || {
            let f = prom::parse(&std::fs::read_to_string(&textfile).ok()?);
            Some((value(&f, &restarts)?, value(&f, &skipped)?))
        },
    );
    assert_eq!((r0, s0), (1.0, 1.0));
    bao.kv_put("hosts/met/app", &json!({ "password": secret("met-app2") }));
    let f = wait_for("the change counted", Duration::from_secs(30), || {
        let f = prom::parse(&std::fs::read_to_string(&textfile).ok()?);
        (value(&f, &restarts)? == 2.0).then_some(f)
    });
    assert_eq!(value(&f, &skipped), Some(2.0));
    assert_eq!(
        value(&f, &app("vaultkeeper_secret_changes_total")),
        Some(1.0)
    );
    let calls = std::fs::read_to_string(host.path("systemctl.calls")).unwrap();
    assert!(
        calls.matches("try-restart -- app.service").count() == 2 && !calls.contains("db.service"),
        "{calls}"
    );

    // Outage: served from the cache, and the cache age grows past the outage.
    drop(bao);
    let f = wait_for(
        "app served from the cache, 3 s old",
        Duration::from_secs(30),
        || {
            let f = prom::parse(&std::fs::read_to_string(&textfile).ok()?);
            (value(&f, &app("vaultkeeper_secret_served_from_cache"))? == 1.0
                && value(&f, &app("vaultkeeper_secret_cache_age_seconds"))? >= 3.0)
                .then_some(f)
        },
    );
    assert_eq!(
        value(&f, &app("vaultkeeper_secret_render_errors_total")),
        Some(0.0)
    );
    assert!(!d.log_text().is_empty());
}

/// Hostile clients on the endpoint: idle connections that never send a request
/// and an oversized request head do not stop a scrape from being answered.
#[test]
fn the_endpoint_survives_idle_and_oversized_clients() {
    let bao = Bao::dev();
    let (role_id, secret_id) = bao.approle("meth");
    let host = Host::new();
    host.write_credentials(&role_id, &secret_id);
    let port = free_port();
    let mut spec = host.spec(&bao.addr, json!({}));
    spec["metrics"] = json!({ "listen": format!("127.0.0.1:{port}") });
    let d = Daemon::start(&host.write_spec(&spec), &[]);
    d.wait_log("metrics: serving", Duration::from_secs(20));
    let idle: Vec<TcpStream> = (0..20)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(idle.len() >= 8);
    // 64 KiB of headers: refused (431) or cut, never buffered whole.
    let mut big = TcpStream::connect(("127.0.0.1", port)).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = write!(
        big,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let mut reply = String::new();
    let _ = big.read_to_string(&mut reply);
    assert!(
        !reply.starts_with("HTTP/1.1 200"),
        "an oversized head was answered: {reply:.80}"
    );
    let t0 = std::time::Instant::now();
    let (status, _, body) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    assert!(prom::parse(&body).contains_key("vaultkeeper_build_info"));
    drop(idle);
}

/// A listen address already in use is logged and the daemon carries on with
/// its secrets (metrics never stop the agent); a symlink planted at the
/// textfile path is left alone.
#[test]
fn metrics_problems_never_stop_the_agent() {
    let bao = Bao::dev();
    let (role_id, secret_id) = bao.approle("metp");
    bao.kv_put("hosts/metp/a", &json!({ "k": secret("metp") }));
    let host = Host::new();
    host.write_credentials(&role_id, &secret_id);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let dir = host.path("tf");
    std::fs::create_dir(&dir).unwrap();
    let victim = host.path("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("vaultkeeper.prom")).unwrap();
    let mut spec = host.spec(&bao.addr, json!({ "a": {"secretPath": "hosts/metp/a"} }));
    spec["metrics"] =
        json!({ "listen": format!("127.0.0.1:{port}"), "textfile": dir.join("vaultkeeper.prom") });
    let d = Daemon::start(&host.write_spec(&spec), &[]);
    d.wait_log("ready:", Duration::from_secs(30));
    d.wait_log("cannot listen", Duration::from_secs(10));
    d.wait_log(
        "vaultkeeper does not replace what it did not create",
        Duration::from_secs(10),
    );
    assert!(host.out("a").join("k").exists());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let log = d.log_text();
    assert_eq!(
        log.matches("does not replace what it did not create")
            .count(),
        1,
        "logged once, not every cycle:\n{log}"
    );
}

/// Every metric the example alert rules and the reference page name is one the
/// daemon exports (with every series populated), and every exported metric is
/// documented.
#[test]
fn alert_rules_and_reference_name_only_exported_metrics() {
    use vaultkeeper::{AuditTotals, Metrics, Outcome, TokenExpiry};
    let m = Metrics::new();
    m.track_secret("s");
    m.secret_fresh("s", 1);
    m.secret_failed("s");
    m.secret_changed("s");
    m.set_token(TokenExpiry::At(100));
    m.logins.inc();
    m.login_failures.inc();
    m.vault_request("http://127.0.0.1:8200", Outcome::Success);
    m.restarts.with_label_values(&["a.service", "change"]).inc();
    m.restarts_skipped
        .with_label_values(&["b.service", "critical"])
        .inc();
    m.restart_failures.with_label_values(&["a.service"]).inc();
    m.audit_totals(AuditTotals {
        lines_read: 1,
        entries: 1,
        open_connections: 1,
        dropped: [("overload".to_string(), 1)].into(),
        alerts: [("root-token-used".to_string(), 1)].into(),
    });
    m.slack_outbox_depth.with_label_values(&["audit"]).set(1);
    m.slack_failures.with_label_values(&["audit"]).inc();
    m.slack_unconfirmed.with_label_values(&["audit"]).inc();
    let fams = prom::parse(&m.encode(50));
    let samples: std::collections::BTreeSet<String> = fams
        .values()
        .flat_map(|f| f.samples.keys())
        .map(|k| k.split('{').next().unwrap().to_string())
        .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let names = |text: &str| -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        let mut rest = text;
        while let Some(i) = rest.find("vaultkeeper_") {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            out.insert(tail[..end].to_string());
            rest = &tail[end..];
        }
        out
    };
    let rules = std::fs::read_to_string(root.join("docs/reference/prometheus-alerts.yml")).unwrap();
    let in_rules = names(&rules);
    assert!(in_rules.len() >= 8, "{in_rules:?}");
    for n in &in_rules {
        assert!(
            samples.contains(n),
            "the alert rules use {n}, which is not exported: {samples:?}"
        );
    }
    let doc = std::fs::read_to_string(root.join("docs/reference/metrics.md")).unwrap();
    let in_doc = names(&doc);
    for n in &samples {
        assert!(
            in_doc.contains(n),
            "{n} is exported but not in docs/reference/metrics.md"
        );
    }
    for n in &in_doc {
        assert!(
            samples.contains(n),
            "docs/reference/metrics.md names {n}, which is not exported"
        );
    }
}
