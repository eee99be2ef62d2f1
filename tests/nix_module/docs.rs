//! docs/reference/options.md is generated from the module and kept current;
//! every documented option has a type, a default, a description and an example.

use super::nix_or_skip;
use crate::nix_eval::repo;

#[test]
fn options_reference_is_up_to_date() {
    let nix = nix_or_skip!("options_reference_is_up_to_date");
    let lib = nix.lib().display().to_string();
    let generated = nix.eval_expr(&format!(
        "import ./nix/options-doc.nix {{ nixpkgsLib = {lib}; }}"
    ));
    let committed = std::fs::read_to_string(repo().join("docs/reference/options.md")).unwrap();
    assert!(
        generated.as_str() == Some(committed.as_str()),
        "docs/reference/options.md is out of date: run scripts/gen-options-doc.sh"
    );
}

#[test]
fn every_option_has_type_default_description_and_example() {
    let nix = nix_or_skip!("every_option_has_type_default_description_and_example");
    let lib = nix.lib().display().to_string();
    let expr = format!(
        r#"let
          lib = import {lib};
          eval = lib.evalModules {{ modules = [ ./nix/module
            {{ _module.check = false; _module.args.pkgs = {{ }}; }} ]; }};
          opts = lib.filter (o: lib.hasPrefix "vault." o.name && !lib.hasInfix "._module." o.name)
            (lib.optionAttrSetToDocList eval.options);
          lacking = o: lib.filter (k: !(o ? ${{k}}) || o.${{k}} == null || o.${{k}} == "")
            [ "type" "default" "description" "example" ];
        in {{
          documented = map (o: o.name) (lib.filter (o: o.visible && !o.internal) opts);
          internal = map (o: o.name) (lib.filter (o: o.internal) opts);
          lacking = lib.filter (x: x.lacking != [ ])
            (map (o: {{ inherit (o) name; lacking = lacking o; }}) (lib.filter (o: !o.internal) opts));
        }}"#
    );
    let got = nix.eval_expr(&expr);
    assert_eq!(got["lacking"], serde_json::json!([]));
    assert_eq!(
        got["internal"],
        serde_json::json!([
            "vault.approle.adoptScript",
            "vault.bootstrap.lateStartScript",
            "vault.spec",
            "vault.specFile"
        ])
    );
    let documented: Vec<String> = serde_json::from_value(got["documented"].clone()).unwrap();
    assert_eq!(documented.len(), 89);
    for name in [
        "vault.bootCacheMaxAge",
        "vault.failback",
        "vault.secrets.<name>.bootCacheMaxAge",
        "vault.approle.adoptFrom",
        "vault.approle.loginBackoff.maxFailures",
        "vault.approle.loginBackoff.window",
        "vault.approle.loginBackoff.retryInterval",
        "vault.audit.allowFrom",
        "vault.audit.maxConnections",
        "vault.audit.idleTimeout",
        "vault.audit.queueBytes",
        "vault.audit.memoryBudget",
        "vault.audit.spillBytes",
        "vault.audit.statsInterval",
        "vault.audit.slack.timeout",
        "vault.audit.slack.responseTimeout",
        "vault.insights.slack.timeout",
        "vault.insights.slack.responseTimeout",
        "vault.secretsDir",
        "vault.secrets.<name>.path",
        "vault.secrets.<name>.keyPaths",
        "vault.secrets.<name>.credentialFor",
        "vault.templates",
        "vault.templates.<name>.content",
        "vault.templates.<name>.envFrom",
        "vault.templates.<name>.path",
        "vault.templates.<name>.onChange",
        "vault.placeholder",
        "vault.secrets.<name>.keys",
        "vault.enable",
        "vault.package",
        "vault.criticalServices",
        "vault.secrets.<name>.secretPath",
        "vault.secrets.<name>.outputDir",
        "vault.secrets.<name>.cacheDir",
        "vault.secrets.<name>.owner",
        "vault.secrets.<name>.group",
        "vault.secrets.<name>.mode",
        "vault.secrets.<name>.services",
        "vault.secrets.<name>.restartTrigger",
        "vault.secrets.<name>.restartInterval",
        "vault.audit.slack.webhookUrlFile",
        "vault.audit.socketGroup",
        "vault.audit.peerUsers",
        "vault.insights.digest",
        "vault.insights.sealedAlert",
        "vault.insights.sealCheckInterval",
        "vault.insights.versionFeed",
        "vault.insights.slack.webhookUrlFile",
        "vault.chat.enable",
        "vault.chat.listen",
        "vault.chat.signingSecretFile",
        "vault.chat.allowedChannels",
        "vault.chat.allowedUsers",
    ] {
        assert!(
            documented.iter().any(|d| d == name),
            "{name} is not documented"
        );
    }
}
