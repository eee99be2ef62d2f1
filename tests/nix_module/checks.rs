//! Every assertion and warning fires when it should (and only then), and the
//! option types reject what must never be written.

use super::nix_or_skip;
use serde_json::json;

fn assertions(nix: &crate::nix_eval::Nix, scenario: &str) -> Vec<String> {
    serde_json::from_value(nix.eval(scenario)["failedAssertions"].clone()).unwrap()
}

#[test]
fn valid_configs_raise_nothing() {
    let nix = nix_or_skip!("valid_configs_raise_nothing");
    for scenario in [
        "defaults",
        "contract",
        "full",
        "critical-no-restart",
        "disabled",
    ] {
        let got = nix.eval(scenario);
        assert_eq!(got["failedAssertions"], json!([]), "{scenario}");
        assert_eq!(got["warnings"], json!([]), "{scenario}");
    }
}

/// The seed design's example (no vault.address) evaluates, with exactly one
/// warning naming the line to add and what happens meanwhile; its spec says
/// where the address comes from, and `vaultkeeper check` accepts it.
#[test]
fn seed_example_without_address_evaluates_with_a_warning() {
    let nix = nix_or_skip!("seed_example_without_address_evaluates_with_a_warning");
    let got = nix.eval("seed-example");
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(
        got["warnings"],
        json!([
            "vault.address is not set: at the first boot vaultkeeper-bootstrap takes VAULT_ADDR (or BAO_ADDR)\n\
             from its environment file (vault.bootstrap.environmentFile, where the seed's cloud-init wrote it\n\
             with the wrapped token) and pins it in /var/lib/vaultkeeper/vault-address; from then on the\n\
             environment never changes it. Until an address is pinned, the fetch units and the agent stop\n\
             with exit 2. Add the one line to make it explicit:\n  \
             vault.address = \"https://vault01.example:8200\";"
        ])
    );
    assert_eq!(
        got["spec"]["vault"]["address"],
        serde_json::Value::Null,
        "{}",
        got["spec"]
    );
    assert_eq!(got["spec"]["vault"]["addressFrom"], "firstBoot");
    // Bootstrap runs until both the credentials and the address are in place
    // (an adopted host has the first and not the second).
    assert_eq!(
        got["services"]["vaultkeeper-bootstrap"]["unitConfig"],
        json!({ "ConditionPathExists": [
            "|!/var/lib/vaultkeeper/approle/secret-id",
            "|!/var/lib/vaultkeeper/vault-address"
        ] })
    );
    assert_eq!(
        got["services"]["vaultkeeper-bootstrap"]["serviceConfig"]["EnvironmentFile"],
        "-/etc/environment"
    );

    let out = crate::nix_eval::vaultkeeper_check(got["specFile"]["text"].as_str().unwrap());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // With the address set, no warning and the spec has no addressFrom.
    let got = nix.eval("defaults");
    assert_eq!(got["warnings"], json!([]));
    assert!(
        got["spec"]["vault"].get("addressFrom").is_none(),
        "{}",
        got["spec"]
    );
}

#[test]
fn missing_secret_path() {
    let nix = nix_or_skip!("missing_secret_path");
    assert_eq!(
        assertions(&nix, "no-secret-path"),
        ["vault.secrets.grafana.secretPath is not set. Set it to the secret's path inside its\n\
          KV mount \"secret\", e.g. vault.secrets.grafana.secretPath = \"hosts/monitoring01/grafana\";"]
    );
}

#[test]
fn secret_name_that_cannot_be_a_unit_name() {
    let nix = nix_or_skip!("secret_name_that_cannot_be_a_unit_name");
    assert_eq!(
        assertions(&nix, "bad-name"),
        ["vault.secrets.\"db/primary\": \"db/primary\" cannot be a secret name: it becomes the unit\n\
          vault-secret-<name>.service and a directory name. Use letters, digits, '-', '_'\n\
          and '.', not '.' or '-' first, at most 200 characters: rename it, e.g. to\n\
          vault.secrets.db-primary."]
    );
}

#[test]
fn mode_that_is_not_octal() {
    let nix = nix_or_skip!("mode_that_is_not_octal");
    assert_eq!(
        assertions(&nix, "bad-mode"),
        ["vault.secrets.grafana.mode = \"u=r\" is not an octal file mode. Write it as\n\
          a string of octal digits, e.g. \"0400\" (owner reads) or \"0440\" (owner and group read)."]
    );
}

#[test]
fn scheduled_restart_of_a_critical_service() {
    let nix = nix_or_skip!("scheduled_restart_of_a_critical_service");
    // "bind.service" matches "bind", "openbao" matches "openbao.service"; "unbound" is not critical.
    assert_eq!(
        assertions(&nix, "critical-restart"),
        ["vault.secrets.dns.restartTrigger is true, but vault.secrets.dns.services lists\n\
          bind.service, openbao, which vault.criticalServices says must never be\n\
          restarted on a schedule. Either set vault.secrets.dns.restartTrigger = false;\n\
          (and restart them yourself in a maintenance window), or remove them from vault.criticalServices."]
    );
}

#[test]
fn a_digest_needs_a_webhook() {
    let nix = nix_or_skip!("a_digest_needs_a_webhook");
    assert_eq!(
        assertions(&nix, "digest-no-webhook"),
        ["vault.insights.digest = \"daily\" posts a digest to Slack, but no webhook is set.\n\
          Set vault.insights.slack.webhookUrlFile = \"/run/secrets/slack-ops/webhook-url\"; (a file holding\n\
          the incoming-webhook URL), or enable vault.audit with vault.audit.slack.webhookUrlFile\n\
          (digests share it), or set vault.insights.digest = null;"]
    );
}

#[test]
fn a_group_socket_needs_a_directory_the_group_can_enter() {
    let nix = nix_or_skip!("a_group_socket_needs_a_directory_the_group_can_enter");
    assert_eq!(
        assertions(&nix, "audit-group-private"),
        ["vault.audit.listen has unix:/run/vaultkeeper/audit.sock, inside the agent's private\n\
          /run/vaultkeeper (0700), which the group \"openbao\" (vault.audit.socketGroup) cannot enter.\n\
          Put the socket in a directory of its own, e.g. \"unix:/run/vaultkeeper-audit/audit.sock\"\n\
          (the module creates it 0750 root:openbao)."]
    );
    let got = nix.eval("audit-group");
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(got["spec"]["audit"]["socketGroup"], "openbao");
    assert!(
        got["tmpfiles"]
            .as_array()
            .unwrap()
            .contains(&json!("d /run/vaultkeeper-audit 0750 root openbao -")),
        "{}",
        got["tmpfiles"]
    );
}

#[test]
fn output_dir_outside_run_warns() {
    let nix = nix_or_skip!("output_dir_outside_run_warns");
    let got = nix.eval("outside-run");
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(
        got["warnings"],
        json!(["vault.secrets.grafana.outputDir = \"/var/lib/grafana/secrets\" is outside /run, so the secret\n\
                is written to a disk and survives reboots. Unless that is what you want, use a\n\
                directory under /run, e.g. vault.secrets.grafana.outputDir = \"/run/secrets/grafana\";"])
    );
}

#[test]
fn store_paths_are_rejected_for_secret_files() {
    let nix = nix_or_skip!("store_paths_are_rejected_for_secret_files");
    let err = nix.eval_error("store-path", "spec");
    assert!(
        err.contains(
            "A definition for option `vault.approle.secretIdFile' is not of type \
             `absolute path outside the Nix store, as a string (e.g. \"/var/lib/vaultkeeper/x\", not ./x)'"
        ),
        "{err}"
    );
    let err = nix.eval_error("path-literal", "spec");
    assert!(
        err.contains(
            "A definition for option `vault.audit.slack.webhookUrlFile' is not of type \
             `null or absolute path outside the Nix store"
        ),
        "{err}"
    );
}

#[test]
fn restart_interval_must_be_a_word_or_duration() {
    let nix = nix_or_skip!("restart_interval_must_be_a_word_or_duration");
    let err = nix.eval_error("bad-interval", "spec");
    assert!(
        err.contains(
            "A definition for option `vault.secrets.grafana.restartInterval' is not of type \
             `\"daily\", \"weekly\", \"monthly\" or a duration such as \"36h\"'"
        ),
        "{err}"
    );
}

#[test]
fn duration_and_path_types_accept_and_reject_exactly() {
    let nix = nix_or_skip!("duration_and_path_types_accept_and_reject_exactly");
    let lib = nix.lib().display().to_string();
    let expr = format!(
        r#"let lib = import {lib}; t = import ./nix/module/types.nix {{ inherit lib; }}; in {{
          duration = map t.duration.check [ "10s" "5m" "36h" "1h 30m" "1h30m" "2days" "10" "5 m" "soon" "" ];
          interval = map t.restartInterval.check [ "daily" "weekly" "monthly" "36h" "fortnightly" "DAILY" ];
          hostPath = map t.hostPath.check [ "/run/secrets/x" "/var/lib/vk" "relative/x" "/nix/store/abc-x" "/nix/store" "/run/../nix/store/x" ];
          listen = map t.listenAddress.check [ "tcp:127.0.0.1:9090" "unix:/run/vk.sock" "127.0.0.1:9090" "unix:rel.sock" ];
        }}"#
    );
    assert_eq!(
        nix.eval_expr(&expr),
        json!({
            "duration": [true, true, true, true, true, true, false, false, false, false],
            "interval": [true, true, true, true, false, false],
            "hostPath": [true, true, false, false, false, false],
            "listen": [true, true, false, false]
        })
    );
}
