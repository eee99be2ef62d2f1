//! Unit tests of the audit section (spec/audit).

use super::*;
use std::path::PathBuf;

fn spec_err(audit: &str) -> String {
    let text = format!(r#"{{"vault":{{"address":"http://127.0.0.1:8200"}},"audit":{audit}}}"#);
    crate::spec::Spec::from_json("spec.json", &text)
        .unwrap_err()
        .to_string()
}

#[test]
fn socket_group_needs_a_unix_socket_and_a_plain_name() {
    let text = r#"{"vault":{"address":"http://127.0.0.1:8200"},"audit":{"listen":["unix:/run/vk/a.sock"],"socketGroup":"openbao"}}"#;
    let s = crate::spec::Spec::from_json("spec.json", text).unwrap();
    assert_eq!(s.audit.unwrap().socket_group.as_deref(), Some("openbao"));
    assert_eq!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"socketGroup":"openbao"}"#),
        "spec.json: audit.socketGroup: applies to unix: sockets and audit.listen has none; add e.g. \"unix:/run/vaultkeeper/audit.sock\" or remove socketGroup"
    );
    assert_eq!(
        spec_err(r#"{"listen":["unix:/run/vk/a.sock"],"socketGroup":"a b"}"#),
        "spec.json: audit.socketGroup: \"a b\" is not a group name; write e.g. \"openbao\" (the Vault server's group)"
    );
}

#[test]
fn the_issue_example_parses() {
    let text = r#"{"vault":{"address":"http://127.0.0.1:8200"},"stateDir":"/var/lib/vk","audit":{
      "listen": ["tcp:127.0.0.1:9090", "unix:/run/vaultkeeper/audit.sock"],
      "slack": { "webhookUrlFile": "/run/secrets/slack/webhook-url" },
      "rules": { "root-token-used": { "severity": "critical" }, "login-failures": { "threshold": 5, "window": "5m" },
                 "prod-delete": { "path": "secret/data/prod/*", "operations": ["delete"], "severity": "high" } }
    }}"#;
    let s = crate::spec::Spec::from_json("spec.json", text).unwrap();
    let a = s.audit.unwrap();
    assert_eq!(
        a.listen,
        vec![
            ListenAddr::Tcp("127.0.0.1:9090".parse().unwrap()),
            ListenAddr::Unix("/run/vaultkeeper/audit.sock".into())
        ]
    );
    assert_eq!(
        a.slack.as_ref().unwrap().webhook_url_file,
        PathBuf::from("/run/secrets/slack/webhook-url")
    );
    assert_eq!(a.rule("login-failures").count, 5);
    assert_eq!(a.rule("login-failures").window, Duration::from_secs(300));
    assert_eq!(a.rule("root-token-used").window, Duration::from_secs(3600));
    assert_eq!(a.rule("token-long-ttl").ttl, DEFAULT_LONG_TTL);
    let c = a.rule("prod-delete").custom.clone().unwrap();
    assert_eq!(
        (c.path.as_str(), c.operations.clone()),
        ("secret/data/prod/*", vec!["delete".to_string()])
    );
    assert_eq!(a.rules.len(), BUILTIN.len() + 1);
    assert_eq!(a.queue_bytes, 16 << 20);
}

#[test]
fn errors_name_the_json_path() {
    assert!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"bogus":1}"#)
            .contains("audit.bogus: unknown field `bogus`"),
        "{}",
        spec_err(r#"{"listen":[],"bogus":1}"#)
    );
    assert_eq!(
        spec_err(r#"{"listen":["udp:1.2.3.4:5"]}"#),
        "spec.json: audit.listen[0]: \"udp:1.2.3.4:5\" is not a listen address; write \"tcp:127.0.0.1:9090\" or \"unix:/run/vaultkeeper/audit.sock\""
    );
    assert!(spec_err(r#"{"listen":[]}"#).contains("audit.listen: give at least one address"));
    assert!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"seal":{"severity":"dire"}}}"#)
            .contains("audit.rules.seal.severity: \"dire\" is not a severity")
    );
    assert!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"seal":{"threshold":3}}}"#)
            .contains("audit.rules.seal.threshold: seal has no threshold")
    );
    assert!(spec_err(
        r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"login-failures":{"threshold":"5"}}}"#
    )
    .contains("audit.rules.login-failures.threshold: must be a whole number"));
    assert!(spec_err(
        r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"token-long-ttl":{"threshold":"a week"}}}"#
    )
    .contains("audit.rules.token-long-ttl.threshold: \"a week\" is not a duration"));
    assert!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"mystery":{"severity":"low"}}}"#)
            .contains("audit.rules.mystery: \"mystery\" is not a built-in rule")
    );
    assert!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"seal":{"path":"sys/*"}}}"#)
            .contains("audit.rules.seal.path: seal is a built-in rule and takes no \"path\"")
    );
    assert!(spec_err(
        r#"{"listen":["tcp:127.0.0.1:9"],"rules":{"x":{"path":"a/*","operations":["write"]}}}"#
    )
    .contains("audit.rules.x.operations[0]: \"write\" is not a Vault operation"));
    assert!(spec_err(
        r#"{"listen":["tcp:127.0.0.1:9"],"slack":{"webhookUrl":"https://hooks.slack.com/x"}}"#
    )
    .contains("audit.slack.webhookUrl: unknown field `webhookUrl`"));
    assert!(
        spec_err(r#"{"listen":["tcp:127.0.0.1:9"],"slack":{"webhookUrlFile":"webhook"}}"#)
            .contains("audit.slack.webhookUrlFile: \"webhook\" is not an absolute path")
    );
}
