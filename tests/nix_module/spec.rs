//! The JSON spec the module generates: exact shape, build-time check, /etc link.

use super::{nix_or_skip, PKG};
use serde_json::{json, Value};

#[test]
fn defaults_fill_every_key_of_the_spec() {
    let nix = nix_or_skip!("defaults_fill_every_key_of_the_spec");
    let got = nix.eval("defaults");
    assert_eq!(
        got["spec"],
        json!({
            "vault": { "address": "https://vault01.example:8200", "namespace": null,
                       "caCert": null, "skipVerify": false, "timeout": "10s",
                       "maxResponseSize": "32MiB" },
            "approle": { "mount": "approle",
                         "roleIdFile": "/var/lib/vaultkeeper/approle/role-id",
                         "secretIdFile": "/var/lib/vaultkeeper/approle/secret-id",
                         "wrappedTokenEnv": "VAULT_WRAPPED_TOKEN", "wrappedTokenFile": null, "roleName": null },
            "stateDir": "/var/lib/vaultkeeper",
            "refreshInterval": "5m",
            "restartRandomizedDelay": "1h",
            "secrets": {
                "grafana": { "secretPath": "hosts/monitoring01/grafana", "kvMount": "secret",
                             "kvVersion": 2, "outputDir": "/run/secrets/grafana",
                             "cacheDir": "/var/lib/vaultkeeper/cache/grafana",
                             "owner": "root", "group": "root", "mode": "0400",
                             "services": [], "restartTrigger": false, "restartInterval": "daily",
                             "refreshInterval": null, "onChange": "restart",
                             "restartRandomizedDelay": null }
            },
            "criticalServices": [],
            "audit": null,
            "insights": null
        })
    );
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(got["warnings"], json!([]));
}

#[test]
fn contract_example_is_generated_exactly() {
    let nix = nix_or_skip!("contract_example_is_generated_exactly");
    let got = nix.eval("contract");
    // The example of the spec contract, verbatim.
    let contract: Value = serde_json::from_str(
        r#"{
  "vault":   { "address": "https://vault01.example:8200", "namespace": null, "caCert": null, "skipVerify": false, "timeout": "10s", "maxResponseSize": "32MiB" },
  "approle": { "mount": "approle", "roleIdFile": "/var/lib/vaultkeeper/approle/role-id", "secretIdFile": "/var/lib/vaultkeeper/approle/secret-id",
               "wrappedTokenEnv": "VAULT_WRAPPED_TOKEN", "wrappedTokenFile": null, "roleName": null },
  "stateDir": "/var/lib/vaultkeeper",
  "refreshInterval": "5m",
  "restartRandomizedDelay": "1h",
  "secrets": {
    "grafana": { "secretPath": "hosts/monitoring01/grafana", "kvMount": "secret", "kvVersion": 2,
                 "outputDir": "/run/secrets/grafana", "cacheDir": "/var/lib/vaultkeeper/cache/grafana",
                 "owner": "grafana", "group": "grafana", "mode": "0400",
                 "services": ["grafana"], "restartTrigger": true, "restartInterval": "daily",
                 "refreshInterval": null, "onChange": "restart", "restartRandomizedDelay": null }
  },
  "criticalServices": ["bind", "openbao", "step-ca"],
  "audit": null,
  "insights": null
}"#,
    )
    .unwrap();
    assert_eq!(got["spec"], contract);
    // What goes into the store is that same spec.
    let text: Value = serde_json::from_str(got["specFile"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, contract);
}

#[test]
fn every_option_reaches_the_spec() {
    let nix = nix_or_skip!("every_option_reaches_the_spec");
    let got = nix.eval("full");
    assert_eq!(
        got["spec"],
        json!({
            "vault": { "address": "https://vault.internal:8200", "namespace": "admin/hosts",
                       "caCert": "/etc/ssl/certs/vault-ca.pem", "skipVerify": true, "timeout": "30s",
                       "maxResponseSize": "64MiB" },
            "approle": { "mount": "approle-hosts", "roleIdFile": "/var/lib/vk/creds/role-id",
                         "secretIdFile": "/var/lib/vk/creds/secret-id",
                         "wrappedTokenEnv": "BAO_WRAPPED_TOKEN",
                         "wrappedTokenFile": "/run/credentials/wrapped-token",
                         "roleName": "db01" },
            "stateDir": "/var/lib/vk",
            "refreshInterval": "1m",
            "restartRandomizedDelay": "15m",
            "secrets": {
                "db": { "secretPath": "hosts/db01/postgres", "kvMount": "kv", "kvVersion": 1,
                        "outputDir": "/run/keys/db", "cacheDir": "/var/cache/vk/db",
                        "owner": "postgres", "group": "postgres", "mode": "0440",
                        "services": ["postgresql.service", "pgbouncer"], "restartTrigger": true,
                        "restartInterval": "36h", "refreshInterval": "30s", "onChange": "reload",
                        "restartRandomizedDelay": "5m" },
                "slack": { "secretPath": "shared/slack", "kvMount": "secret", "kvVersion": 2,
                           "outputDir": "/run/secrets/slack", "cacheDir": "/var/lib/vk/cache/slack",
                           "owner": "root", "group": "root", "mode": "0400", "services": [],
                           "restartTrigger": false, "restartInterval": "daily",
                           "refreshInterval": null, "onChange": "none",
                           "restartRandomizedDelay": null }
            },
            "criticalServices": ["openbao"],
            "audit": {
                "listen": ["tcp:127.0.0.1:9090", "unix:/run/vaultkeeper/audit.sock",
                           "unix:/run/audit/vk.sock"],
                "socketGroup": null,
                "peerUsers": [],
                "slack": { "webhookUrlFile": "/run/secrets/slack/webhook-url" },
                "rules": { "root-token-used": { "severity": "critical" },
                           "login-failures": { "threshold": 5, "window": "5m" } }
            },
            "insights": { "digest": "weekly", "sealedAlert": true, "sealCheckInterval": "30s",
                          "versionFeed": null, "slack": null }
        })
    );
}

#[test]
fn spec_is_checked_at_build_time_and_linked_into_etc() {
    let nix = nix_or_skip!("spec_is_checked_at_build_time_and_linked_into_etc");
    let got = nix.eval("defaults");
    assert_eq!(got["specFile"]["name"], "vaultkeeper-spec.json");
    assert_eq!(
        got["specFile"]["checkPhase"],
        format!("{PKG}/bin/vaultkeeper --spec \"$out\" check\n")
    );
    assert_eq!(got["etcKeys"], json!(["vaultkeeper/spec.json"]));
    assert_eq!(got["systemPackages"], json!([PKG]));
    let text: Value = serde_json::from_str(got["specFile"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, got["spec"]);
}

#[test]
fn generated_specs_pass_vaultkeeper_check() {
    let nix = nix_or_skip!("generated_specs_pass_vaultkeeper_check");
    for scenario in [
        "defaults",
        "contract",
        "full",
        "critical-no-restart",
        "outside-run",
        "login-backoff",
        "boot-cache",
        "audit-tuning",
    ] {
        let text = nix.eval(scenario)["specFile"]["text"]
            .as_str()
            .unwrap()
            .to_string();
        let out = crate::nix_eval::vaultkeeper_check(&text);
        assert!(
            out.status.success(),
            "vaultkeeper check rejects the spec of scenario {scenario}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn disabled_module_adds_nothing() {
    let nix = nix_or_skip!("disabled_module_adds_nothing");
    let got = nix.eval("disabled");
    assert_eq!(got["services"], json!({}));
    assert_eq!(got["tmpfiles"], json!([]));
    assert_eq!(got["etcKeys"], json!([]));
    assert_eq!(got["systemPackages"], json!([]));
    assert_eq!(got["failedAssertions"], json!([]));
}

#[test]
fn login_backoff_reaches_the_spec_only_where_set() {
    let nix = nix_or_skip!("login_backoff_reaches_the_spec_only_where_set");
    let got = nix.eval("login-backoff");
    assert_eq!(
        got["spec"]["approle"]["loginBackoff"],
        json!({ "maxFailures": 2, "window": "30m" })
    );
    assert_eq!(got["failedAssertions"], json!([]));
    // Unset: no key at all, so the agent's own default applies.
    assert!(nix.eval("defaults")["spec"]["approle"]
        .get("loginBackoff")
        .is_none());
}

#[test]
fn boot_cache_max_age_and_failback_reach_the_spec_only_where_set() {
    let nix = nix_or_skip!("boot_cache_max_age_and_failback_reach_the_spec_only_where_set");
    let got = nix.eval("boot-cache");
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(got["spec"]["bootCacheMaxAge"], "1h");
    assert_eq!(got["spec"]["vault"]["failback"], "2m");
    assert_eq!(got["spec"]["secrets"]["db"]["bootCacheMaxAge"], "0s");
    assert!(got["spec"]["secrets"]["grafana"]
        .get("bootCacheMaxAge")
        .is_none());
    let defaults = &nix.eval("defaults")["spec"];
    assert!(defaults.get("bootCacheMaxAge").is_none());
    assert!(defaults["vault"].get("failback").is_none());
    // The boot units are the ones that may render from the confirmed cache.
    assert!(
        got["services"]["vault-secret-db"]["serviceConfig"]["ExecStart"]
            .as_str()
            .unwrap()
            .ends_with(" fetch --boot db")
    );
}

#[test]
fn audit_limits_and_slack_time_limits_reach_the_spec_only_where_set() {
    let nix = nix_or_skip!("audit_limits_and_slack_time_limits_reach_the_spec_only_where_set");
    let got = nix.eval("audit-tuning");
    assert_eq!(got["failedAssertions"], json!([]));
    let audit = &got["spec"]["audit"];
    for (k, v) in [
        ("allowFrom", json!(["10.0.0.5", "10.0.1.0/24"])),
        ("maxConnections", json!(128)),
        ("idleTimeout", json!("2m")),
        ("memoryBudget", json!(134217728)),
        (
            "slack",
            json!({ "webhookUrlFile": "/run/secrets/slack/webhook-url", "responseTimeout": "90s" }),
        ),
    ] {
        assert_eq!(audit[k], v, "audit.{k}");
    }
    for unset in ["queueBytes", "spillBytes", "statsInterval"] {
        assert!(audit.get(unset).is_none(), "audit.{unset} was not set");
    }
    assert_eq!(
        got["spec"]["insights"]["slack"],
        json!({ "webhookUrlFile": "/run/secrets/slack-ops/webhook-url", "timeout": "5s" })
    );
}
