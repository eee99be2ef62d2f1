//! `vault.templates.*` and `vault.placeholder.*`: the spec section, the units
//! and their ordering, the read-only path, and the mistakes caught at
//! evaluation time.

use super::{nix_or_skip, PKG};
use serde_json::json;

#[test]
fn templates_reach_the_spec_and_order_their_services() {
    let nix = nix_or_skip!("templates_reach_the_spec_and_order_their_services");
    let got = nix.eval("templates");
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(got["warnings"], json!([]));
    // Placeholders written with config.vault.placeholder.<secret>.<key>.
    assert_eq!(
        got["spec"]["templates"],
        json!({
            "app.env": {
                "content": null, "envFrom": ["db", "api"], "path": "/run/secrets/rendered/app.env",
                "owner": "root", "group": "root", "mode": "0440",
                "services": ["app.service"], "onChange": "reload"
            },
            "grafana.ini": {
                "content": "[security]\nadmin_user = {{ grafana.user }}\nadmin_password = {{ grafana.password }}\n",
                "envFrom": null, "path": "/run/secrets/rendered/grafana.ini",
                "owner": "grafana", "group": "grafana", "mode": "0400",
                "services": ["grafana"], "onChange": "restart"
            }
        })
    );
    // `keys` is the module's, never in the spec the agent reads.
    assert!(got["spec"]["secrets"]["grafana"].get("keys").is_none());
    let s = &got["services"];
    // The template's unit: after its secrets' units, before its services.
    let unit = &s["vault-template-app.env"];
    assert_eq!(
        unit["serviceConfig"]["ExecStart"],
        json!(format!(
            "{PKG}/bin/vaultkeeper --spec /etc/vaultkeeper/spec.json fetch --boot app.env"
        ))
    );
    assert_eq!(unit["serviceConfig"]["Type"], "oneshot");
    for dep in ["vault-secret-db.service", "vault-secret-api.service"] {
        assert!(
            unit["after"].as_array().unwrap().contains(&json!(dep)),
            "{unit}"
        );
        assert!(
            unit["wants"].as_array().unwrap().contains(&json!(dep)),
            "{unit}"
        );
    }
    assert_eq!(unit["before"], json!(["app.service"]));
    assert_eq!(
        s["vault-template-grafana.ini"]["after"],
        json!([
            "network-online.target",
            "vaultkeeper-bootstrap.service",
            "vault-secret-grafana.service"
        ])
    );
    // Its services require it; the read-only path is what a user references.
    assert_eq!(
        s["app"]["requires"],
        json!(["vault-template-app.env.service"])
    );
    assert_eq!(s["app"]["after"], json!(["vault-template-app.env.service"]));
    assert_eq!(
        s["app"]["serviceConfig"]["EnvironmentFile"],
        "/run/secrets/rendered/app.env"
    );
    assert_eq!(
        s["grafana"]["requires"],
        json!(["vault-template-grafana.ini.service"])
    );
    // As a fetch unit, a switch never restarts it (a new package, a changed
    // template): the daemon's reload re-renders it and restarts its services once.
    assert_eq!(unit["restartIfChanged"], false);
    assert_eq!(unit["restartTriggers"], json!([]));
    // The daemon starts after the template units; its sandbox can write them.
    let after = s["vaultkeeper"]["after"].as_array().unwrap();
    assert!(after.contains(&json!("vault-template-grafana.ini.service")));
    assert_eq!(
        s["vaultkeeper"]["serviceConfig"]["ReadWritePaths"],
        json!(["/var/lib/vaultkeeper", "/run/secrets"])
    );
    assert!(got["tmpfiles"]
        .as_array()
        .unwrap()
        .contains(&json!("d /run/secrets/rendered 0751 root root -")));

    // The agent accepts what the module generates.
    let out = crate::nix_eval::vaultkeeper_check(got["specFile"]["text"].as_str().unwrap());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("valid, 3 secret(s), 2 template(s)"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // No template: no section, no unit.
    let defaults = nix.eval("defaults");
    assert!(defaults["spec"].get("templates").is_none());
}

#[test]
fn placeholders_are_the_text_the_agent_reads() {
    let nix = nix_or_skip!("placeholders_are_the_text_the_agent_reads");
    let got = nix.eval("templates");
    assert_eq!(
        got["placeholder"],
        json!({
            "api": {},
            "db": {},
            "grafana": { "password": "{{ grafana.password }}", "user": "{{ grafana.user }}" }
        })
    );
}

#[test]
fn template_mistakes_fail_the_evaluation() {
    let nix = nix_or_skip!("template_mistakes_fail_the_evaluation");
    let got = nix.eval("templates-bad");
    let failed: Vec<String> = serde_json::from_value(got["failedAssertions"].clone()).unwrap();
    let want = [
        "vault.templates.both.content and vault.templates.both.envFrom are both set; they are exclusive: keep one.",
        "vault.templates.db has the name of a secret",
        "vault.templates.neither.content and vault.templates.neither.envFrom are both unset. Set one:",
        "vault.templates.unknown.envFrom lists dbb,\nwhich is not in vault.secrets (known: db).",
        "vault.templates.writable.mode = \"0640\" is not a read-only octal file mode.",
    ];
    assert_eq!(failed.len(), want.len(), "{failed:#?}");
    for w in want {
        assert!(failed.iter().any(|f| f.contains(w)), "{w}\n{failed:#?}");
    }
}
