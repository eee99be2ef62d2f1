use super::*;
use crate::audit::spec::{from_json, AuditSpec, Severity};
use serde_json::json;

fn line(kind: &str, id: &str, path: &str, op: &str, extra: serde_json::Value) -> String {
    let mut e = json!({
        "time": "2026-11-22T08:00:00Z", "type": kind,
        "auth": { "accessor": "hmac-sha256:acc", "display_name": "approle", "policies": ["default"] },
        "request": { "id": id, "operation": op, "path": path, "remote_address": "10.0.0.9" },
    });
    json_merge(&mut e, extra);
    e.to_string()
}

/// The `auth` block of a response handing out a token (`token_ttl` when given).
fn token_auth(
    accessor: &str,
    name: &str,
    policies: &[&str],
    ttl: Option<i64>,
) -> serde_json::Value {
    let mut auth = json!({"accessor": accessor, "display_name": name, "policies": policies});
    if let Some(t) = ttl {
        auth["token_ttl"] = json!(t);
    }
    auth
}

/// An `update` response line with `extra` merged in.
fn token_response(id: &str, path: &str, extra: serde_json::Value) -> String {
    line("response", id, path, "update", extra)
}

fn json_merge(a: &mut serde_json::Value, b: serde_json::Value) {
    if let (Some(a), serde_json::Value::Object(b)) = (a.as_object_mut(), b) {
        for (k, v) in b {
            match a.get_mut(&k) {
                Some(x) if x.is_object() && v.is_object() => json_merge(x, v),
                _ => {
                    a.insert(k, v);
                }
            }
        }
    }
}

fn run(spec: &AuditSpec, lines: &[String], at: &[i64]) -> Vec<Alert> {
    let mut e = Engine::new(spec);
    let mut out = Vec::new();
    for (l, t) in lines.iter().zip(at) {
        e.ingest(l, Clock::Given(*t), &mut out);
    }
    e.flush(&mut out);
    out
}

fn rules_of(a: &[Alert]) -> Vec<(String, u64, bool)> {
    a.iter()
        .map(|a| (a.rule.clone(), a.count, a.summary))
        .collect()
}

#[test]
fn login_failures_fire_at_the_threshold_then_coalesce_per_key() {
    let spec = from_json(
        "x",
        r#"{"rules":{"login-failures":{"threshold":3,"window":"1m"}}}"#,
    )
    .unwrap();
    let fail = |i: usize, addr: &str| {
        line(
            "response",
            &format!("f{i}{addr}"),
            "auth/approle/login",
            "update",
            json!({"error": "invalid credentials", "request": {"remote_address": addr, "data": {"role_id": "hmac-sha256:r1"}}}),
        )
    };
    let lines: Vec<String> = (0..6)
        .map(|i| fail(i, "10.0.0.9"))
        .chain([fail(9, "10.0.0.7")])
        .collect();
    // 0s, 1s, 2s (threshold), 3s, 4s, 70s (new window: 1 failure only), other address
    let out = run(&spec, &lines, &[0, 1000, 2000, 3000, 4000, 70_000, 70_000]);
    assert_eq!(
        rules_of(&out),
        vec![
            ("login-failures".into(), 3, false),
            ("login-failures".into(), 2, true)
        ]
    );
    assert_eq!(
        out[0].title,
        "3 failed logins at auth/approle/login from 10.0.0.9 within 1m"
    );
}

#[test]
fn a_failure_seen_on_request_and_response_lines_counts_once_and_resends_are_dropped() {
    let spec = from_json("x", r#"{"rules":{"login-failures":{"threshold":2}}}"#).unwrap();
    let req = line(
        "request",
        "a",
        "auth/userpass/login/bob",
        "update",
        json!({"error": "permission denied"}),
    );
    let resp = line(
        "response",
        "a",
        "auth/userpass/login/bob",
        "update",
        json!({"error": "permission denied"}),
    );
    let mut e = Engine::new(&spec);
    let mut out = Vec::new();
    for l in [&req, &resp, &resp, &req] {
        e.ingest(l, Clock::Given(0), &mut out);
    }
    assert!(out.is_empty(), "one failure only: {out:?}");
    assert_eq!(e.counts.duplicates, 2);
    assert_eq!(e.counts.entries, 2);
}

#[test]
fn lockouts_alert_at_once() {
    let l = line(
        "response",
        "l1",
        "auth/userpass/login/bob",
        "update",
        json!({"error": "user is locked out"}),
    );
    let out = run(&AuditSpec::defaults(), &[l], &[0]);
    assert_eq!(rules_of(&out), vec![("login-failures".into(), 1, false)]);
    assert!(out[0].title.contains("locked out"));
}

#[test]
fn policy_granting_sudo_is_critical_when_readable() {
    let body = "path \"sys/*\" { capabilities = [\"read\", \"sudo\"] }";
    let l = line(
        "response",
        "p1",
        "sys/policies/acl/ops",
        "update",
        json!({"request": {"data": {"policy": body}}}),
    );
    let h = line(
        "response",
        "p2",
        "sys/policy/ops2",
        "update",
        json!({"request": {"data": {"policy": "hmac-sha256:xx"}}}),
    );
    let out = run(&AuditSpec::defaults(), &[l, h], &[0, 400_000]);
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].title.as_str(), out[0].severity),
        ("policy ops written (grants sudo)", Severity::Critical)
    );
    assert_eq!(
        (out[1].title.as_str(), out[1].severity),
        ("policy ops2 written", Severity::High)
    );
}

#[test]
fn disabled_rules_and_custom_rules() {
    let spec = from_json(
        "x",
        r#"{"rules":{"seal":{"enabled":false},
            "prod-delete":{"path":"secret/data/prod/*","operations":["delete"],"severity":"critical"},
            "denied":{"path":"secret/*","error":"permission denied","policy":"default"}}}"#,
    )
    .unwrap();
    let seal = line("request", "s", "sys/seal", "update", json!({}));
    let del = line("response", "d", "secret/data/prod/db", "delete", json!({}));
    let read = line("response", "r", "secret/data/prod/db", "read", json!({}));
    let denied = line(
        "request",
        "x",
        "secret/data/other",
        "read",
        json!({"error": "1 error occurred:\n\t* permission denied\n\n"}),
    );
    let out = run(&spec, &[seal, del, read, denied], &[0, 1, 2, 3]);
    assert_eq!(
        rules_of(&out),
        vec![
            ("prod-delete".into(), 1, false),
            ("denied".into(), 1, false)
        ]
    );
    assert_eq!(out[0].severity, Severity::Critical);
}

#[test]
fn root_token_use_is_critical_and_posted_every_time() {
    let use_ = |id: &str, acc: &str| {
        line(
            "request",
            id,
            "secret/data/x",
            "read",
            json!({"auth": {"accessor": acc, "policies": ["root"], "display_name": "root"}}),
        )
    };
    let lines = vec![
        use_("1", "a"),
        use_("2", "a"),
        use_("3", "b"),
        use_("4", "a"),
        use_("5", "a"),
    ];
    let out = run(
        &AuditSpec::defaults(),
        &lines,
        &[0, 1000, 2000, 3000, 3_700_000],
    );
    // The first use from 10.0.0.9 is also a use from a new address.
    assert_eq!(out[1].rule, "root-token-new-address");
    assert_eq!(out[1].title, "root token used from a new address: 10.0.0.9");
    let out: Vec<Alert> = out
        .into_iter()
        .filter(|a| a.rule == "root-token-used")
        .collect();
    // Critical: every use is its own alert (rate limiting starts beyond 10 a minute).
    assert_eq!(
        rules_of(&out),
        vec![("root-token-used".into(), 1, false); 5]
    );
    let ids: Vec<&str> = out.iter().map(|a| a.request_id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
}

#[test]
fn tokens_no_expiry_long_ttl_orphan_and_root() {
    let new = |id: &str, path: &str, ttl: Option<i64>, pols: &[&str], data: serde_json::Value| {
        let auth = token_auth("hmac-sha256:n", "token-x", pols, ttl);
        token_response(
            id,
            path,
            json!({"response": {"auth": auth}, "request": {"data": data}}),
        )
    };
    let lines = vec![
        new("1", "auth/token/create", None, &["root"], json!({})),
        new(
            "2",
            "auth/token/create",
            Some(3600),
            &["default"],
            json!({}),
        ),
        new(
            "3",
            "auth/token/create-orphan",
            Some(3600),
            &["default"],
            json!({}),
        ),
        new(
            "4",
            "auth/token/create",
            Some(800 * 3600),
            &["default"],
            json!({}),
        ),
        new("5", "auth/token/create", None, &["default"], json!({})),
        new(
            "6",
            "auth/token/create",
            Some(3600),
            &["default"],
            json!({"period": "hmac-sha256:p", "ttl": "hmac-sha256:z", "explicit_max_ttl": "hmac-sha256:z"}),
        ),
        new(
            "7",
            "auth/approle/login",
            Some(3600),
            &["default"],
            json!({}),
        ),
    ];
    let out = run(&AuditSpec::defaults(), &lines, &[0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(
        rules_of(&out),
        vec![
            ("root-token-created".into(), 1, false),
            ("orphan-token".into(), 1, false),
            ("token-long-ttl".into(), 1, false),
            ("token-no-expiry".into(), 1, false),
            ("token-no-expiry".into(), 1, true),
        ]
    );
    assert_eq!(out[2].title, "token created with a TTL of 800h");
    assert_eq!(out[4].title, "periodic token created (renewable forever)");
}

/// Issue §7: tokens a login hands out (userpass, approle...) are judged like
/// those of `auth/token/create`.
#[test]
fn tokens_from_logins_without_expiry_or_with_a_long_ttl_alert() {
    let login = |id: &str, path: &str, ttl: Option<i64>| {
        let auth = token_auth("hmac-sha256:l", "userpass-bob", &["default", "deploy"], ttl);
        token_response(id, path, json!({"response": {"auth": auth}}))
    };
    let lines = vec![
        login("1", "auth/userpass/login/bob", None),
        login("2", "auth/approle/login", Some(0)),
        login("3", "auth/ldap/login/carol", Some(2000 * 3600)),
        login("4", "auth/approle/login", Some(3600)),
    ];
    let spec = from_json("x", r#"{"rules":{"token-no-expiry":{"window":"1s"}}}"#).unwrap();
    let out = run(&spec, &lines, &[0, 5000, 10_000, 15_000]);
    let got: Vec<(&str, &str, &str)> = out
        .iter()
        .map(|a| (a.rule.as_str(), a.title.as_str(), a.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "token-no-expiry",
                "token created without expiry",
                "auth/userpass/login/bob"
            ),
            (
                "token-no-expiry",
                "token created without expiry",
                "auth/approle/login"
            ),
            (
                "token-long-ttl",
                "token created with a TTL of 2000h",
                "auth/ldap/login/carol"
            ),
        ]
    );
}

#[test]
fn not_json_is_counted_and_replay_uses_entry_times() {
    let mut e = Engine::new(&AuditSpec::defaults());
    let mut out = Vec::new();
    e.ingest("garbage", Clock::EntryTime, &mut out);
    e.ingest("{\"type\":1}", Clock::EntryTime, &mut out);
    assert_eq!(e.counts.not_json, 2);
    let seal = |id: &str, t: &str| {
        format!(
            r#"{{"time":"{t}","type":"request","request":{{"id":"{id}","operation":"update","path":"sys/seal"}}}}"#
        )
    };
    for (id, t) in [
        ("1", "2026-01-01T00:00:00Z"),
        ("2", "2026-01-01T00:01:00Z"),
        ("3", "2026-01-01T00:10:00Z"),
    ] {
        e.ingest(&seal(id, t), Clock::EntryTime, &mut out);
    }
    e.flush(&mut out);
    // seal is critical: each one on its own.
    assert_eq!(rules_of(&out), vec![("seal".into(), 1, false); 3]);
    assert_eq!(out[1].time, "2026-01-01T00:01:00Z");
}
