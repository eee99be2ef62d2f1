//! The module refuses at evaluation time exactly the directories and modes
//! `vaultkeeper check` refuses: one list (nix/path-rules.json), the same rule
//! names, every message naming the option and the fix. Trailing slashes are
//! normalised; sops-nix's /run/secrets is detected.

use super::nix_or_skip;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn assertions(got: &Value) -> Vec<String> {
    serde_json::from_value(got["failedAssertions"].clone()).unwrap()
}

/// (option path without "vault.", rule) of every `[rule: X]` assertion.
fn nix_rules(got: &Value) -> BTreeSet<(String, String)> {
    assertions(got)
        .iter()
        .filter_map(|m| {
            let rule = m.rsplit_once("[rule: ")?.1.strip_suffix(']')?;
            let at = m.strip_prefix("vault.")?.split_once(" = ")?.0;
            Some((at.to_string(), rule.to_string()))
        })
        .collect()
}

/// (JSON path, rule) of every problem `vaultkeeper check` reports for the
/// spec the module generated, and its exit code.
fn check_rules(got: &Value) -> (Option<i32>, BTreeSet<(String, String)>) {
    let out = crate::nix_eval::vaultkeeper_check(got["specFile"]["text"].as_str().unwrap());
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let rules = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix("- ")?;
            let rule = l.rsplit_once("[rule: ")?.1.strip_suffix(']')?;
            Some((l.split_once(": ")?.0.to_string(), rule.to_string()))
        })
        .collect();
    (out.status.code(), rules)
}

#[test]
fn the_module_refuses_what_check_refuses_by_the_same_rules() {
    let nix = nix_or_skip!("the_module_refuses_what_check_refuses_by_the_same_rules");
    for scenario in ["paths-refused", "paths-state-dir"] {
        let got = nix.eval(scenario);
        let in_nix = nix_rules(&got);
        let (code, in_check) = check_rules(&got);
        assert_eq!(code, Some(2), "{scenario}: check must refuse the spec");
        assert!(in_nix.len() >= 3, "{scenario}: {in_nix:?}");
        assert_eq!(in_nix, in_check, "{scenario}: module vs vaultkeeper check");
    }
}

#[test]
fn system_directories_and_state_dir_are_refused_with_the_fix() {
    let nix = nix_or_skip!("system_directories_and_state_dir_are_refused_with_the_fix");
    let got = assertions(&nix.eval("paths-refused"));
    for expected in [
        "vault.secrets.a.outputDir = \"/etc\" is /etc, which the system owns; vaultkeeper replaces its target with a symlink and would move what is there aside. Write a directory of its own, e.g. vault.secrets.a.outputDir = \"/run/secrets/a\"; [rule: system-directory]",
        // The trailing slash is gone before the rule sees it.
        "vault.secrets.b.outputDir = \"/etc/nginx\" is inside /etc, which the system owns; vaultkeeper replaces its target with a symlink and would move what is there aside. Write a directory of its own, e.g. vault.secrets.b.outputDir = \"/run/secrets/b\"; [rule: system-directory]",
        "vault.secrets.c.outputDir = \"/run\" is /run itself, a system directory shared by everything on the host; vaultkeeper replaces its target with a symlink and would move what is there aside. Write a directory of its own, e.g. vault.secrets.c.outputDir = \"/run/secrets/c\"; [rule: system-directory]",
        "vault.secrets.d.outputDir = \"/var/lib/grafana\" is a directory of its own in /var/lib (a service's or user's directory, e.g. /var/lib/grafana); vaultkeeper replaces its target with a symlink and would move what is there aside. Write a directory of its own, e.g. vault.secrets.d.outputDir = \"/run/secrets/d\"; [rule: system-directory]",
        "vault.secrets.h.outputDir = \"/var/lib/vaultkeeper/approle\" contains vault.approle.secretIdFile \"/var/lib/vaultkeeper/approle/secret-id\"; a render would move it aside. Keep credentials outside every outputDir and cacheDir. [rule: contains-credentials]",
        "vault.secrets.i.outputDir = \"/run/secrets/i\" contains vault.secrets.i.cacheDir = \"/run/secrets/i/cache\"; a render of one would move the other aside. Use directories side by side, e.g. under \"/run/secrets\". [rule: nested]",
        "vault.secrets.k.outputDir = \"/run/secrets/.k.vaultkeeper\" uses a name vaultkeeper reserves for its own files (\".*.vaultkeeper*\"); choose another name, e.g. vault.secrets.k.outputDir = \"/run/secrets/k\"; [rule: reserved-name]",
    ] {
        assert!(got.iter().any(|m| m == expected), "missing {expected}\nin {got:#?}");
    }
    let got = assertions(&nix.eval("paths-state-dir"));
    assert!(
        got.iter().any(|m| m == "vault.stateDir = \"/etc/vaultkeeper\" is a system directory (or inside one) or uses a reserved name; vaultkeeper makes it 0700 and keeps credentials there. Write e.g. vault.stateDir = \"/var/lib/vaultkeeper\"; [rule: system-directory]"),
        "{got:#?}"
    );
}

#[test]
fn setuid_setgid_and_sticky_modes_are_refused() {
    let nix = nix_or_skip!("setuid_setgid_and_sticky_modes_are_refused");
    let got = assertions(&nix.eval("paths-refused"));
    let modes: Vec<&String> = got.iter().filter(|m| m.contains(".mode = ")).collect();
    let tail = "only permission bits (0000-0777) are allowed for secret files, whose content anyone who can write the secret in Vault controls.";
    assert_eq!(
        modes,
        [
            &format!("vault.secrets.a.mode = \"4555\" sets the setuid bit; {tail} Write vault.secrets.a.mode = \"0555\"; [rule: permission-bits-only]"),
            &format!("vault.secrets.e.mode = \"6550\" sets the setuid and setgid bit; {tail} Write vault.secrets.e.mode = \"0550\"; [rule: permission-bits-only]"),
            &format!("vault.secrets.f.mode = \"1400\" sets the sticky bit; {tail} Write vault.secrets.f.mode = \"0400\"; [rule: permission-bits-only]"),
        ],
        "\"0o0440\" (secret m) is fine"
    );
}

#[test]
fn paths_are_normalised_and_secrets_dir_is_the_default_base() {
    let nix = nix_or_skip!("paths_are_normalised_and_secrets_dir_is_the_default_base");
    let got = nix.eval("paths-normalised");
    assert_eq!(got["failedAssertions"], json!([]));
    let s = &got["spec"];
    assert_eq!(s["stateDir"], "/var/lib/vk");
    assert_eq!(s["secrets"]["db"]["outputDir"], "/run/secrets/db");
    assert_eq!(s["secrets"]["db"]["cacheDir"], "/var/cache/vk/db");
    assert_eq!(s["secrets"]["api"]["outputDir"], "/run/vault-secrets/api");
    assert_eq!(s["secrets"]["api"]["cacheDir"], "/var/lib/vk/cache/api");
    assert_eq!(s["secrets"]["keys"]["outputDir"], "/run/keys/api");
    assert_eq!(
        s["approle"]["secretIdFile"],
        "/var/lib/vk/approle/secret-id"
    );
    assert_eq!(
        s["templates"]["app.env"]["path"],
        "/run/vault-secrets/rendered/app.env"
    );
    // tmpfiles: our directories, normalised; none for /run/keys (nixpkgs' 0750
    // root:keys) and none for /run itself.
    assert_eq!(
        got["tmpfiles"],
        json!([
            "d /var/lib/vk 0700 root root -",
            "d /var/lib/vk/cache/api 0700 root root -",
            "d /var/cache/vk/db 0700 root root -",
            "d /var/lib/vk/cache/keys 0700 root root -",
            "d /var/lib/vk/approle 0700 root root -",
            "d /run/vault-secrets 0751 root root -",
            "d /run/secrets 0751 root root -",
            "d /run/vault-secrets/rendered 0751 root root -"
        ])
    );
    let rw = &got["services"]["vaultkeeper"]["serviceConfig"]["ReadWritePaths"];
    for p in [
        "/run/secrets",
        "/run/keys",
        "/run/vault-secrets",
        "/var/lib/vk",
        "/var/cache/vk/db",
    ] {
        assert!(rw.as_array().unwrap().contains(&json!(p)), "{p} in {rw}");
    }
    assert!(
        !rw.as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with('/')),
        "{rw}"
    );
    let (code, rules) = check_rules(&got);
    assert_eq!((code, rules), (Some(0), BTreeSet::new()));
}

#[test]
fn sops_nix_owning_run_secrets_is_detected_and_the_fix_named() {
    let nix = nix_or_skip!("sops_nix_owning_run_secrets_is_detected_and_the_fix_named");
    assert_eq!(
        assertions(&nix.eval("sops-nix")),
        ["sops-nix is enabled and owns /run/secrets (a symlink it points at a new generation and\n\
          deletes the old one on every activation), but vault.secrets.db.outputDir = \"/run/secrets/db-by-hand\", vault.secrets.grafana.outputDir = \"/run/secrets/grafana\"\n\
          are inside it: the files vaultkeeper writes there would vanish at the next switch.\n\
          Give vaultkeeper a directory of its own: vault.secretsDir = \"/run/vault-secrets\";\n\
          (the base of every default outputDir and template path); move an outputDir you set yourself too."]
    );
    let got = nix.eval("sops-nix-own-dir");
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(
        got["spec"]["secrets"]["grafana"]["outputDir"],
        "/run/vault-secrets/grafana"
    );
    // Without sops-nix, /run/secrets is ours.
    assert_eq!(nix.eval("defaults")["failedAssertions"], json!([]));
}

#[test]
fn a_secret_in_the_templates_directory_is_refused() {
    let nix = nix_or_skip!("a_secret_in_the_templates_directory_is_refused");
    let got = nix.eval("template-clash");
    assert_eq!(
        assertions(&got),
        ["vault.templates.\"app.env\".path = \"/run/secrets/rendered/app.env\" is inside vault.secrets.rendered.outputDir = \"/run/secrets/rendered\"; a render of one would move the other aside. Every template is written below \"/run/secrets/rendered\": rename the secret, e.g. vault.secrets.rendered-secret."]
    );
    // vaultkeeper check refuses the same spec.
    let (code, _) = check_rules(&got);
    assert_eq!(code, Some(2));
}
