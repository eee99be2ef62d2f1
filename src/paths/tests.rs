use crate::spec::{Spec, SpecError};
use serde_json::{json, Value};

fn spec(secrets: Value) -> Result<Spec, SpecError> {
    spec_with(json!({}), secrets)
}

fn spec_with(extra: Value, secrets: Value) -> Result<Spec, SpecError> {
    let mut text = json!({
        "vault": {"address": "https://vault.example:8200"},
        "stateDir": "/var/lib/vaultkeeper",
        "secrets": secrets,
    });
    for (k, v) in extra.as_object().unwrap() {
        text[k] = v.clone();
    }
    Spec::from_json("spec.json", &text.to_string())
}

fn refusal(secrets: Value) -> String {
    spec(secrets).unwrap_err().to_string()
}

#[test]
fn the_rules_file_parses_and_lists_the_system_directories() {
    let r = super::rules();
    for d in ["/etc", "/usr", "/root", "/nix", "/lib64", "/boot", "/proc"] {
        assert!(r.system_trees.iter().any(|t| t.as_os_str() == d), "{d}");
    }
    for d in ["/", "/run", "/var/lib", "/home"] {
        assert!(r.system_dirs.iter().any(|t| t.as_os_str() == d), "{d}");
    }
    assert!(r
        .service_parents
        .iter()
        .any(|t| t.as_os_str() == "/var/lib"));
}

#[test]
fn output_dirs_in_system_directories_are_refused_with_path_rule_and_fix() {
    for (dir, why) in [
        ("/etc", "is /etc, which the system owns"),
        ("/usr", "is /usr, which the system owns"),
        ("/root", "is /root, which the system owns"),
        ("/etc/nginx", "is inside /etc, which the system owns"),
        ("/nix/store/x", "is inside /nix"),
        ("/var/lib", "is /var/lib itself"),
        ("/run", "is /run itself"),
        ("/home", "is /home itself"),
        ("/run/secrets", "is /run/secrets itself"),
        ("/var/lib/grafana", "a directory of its own in /var/lib"),
        ("/home/alice", "a directory of its own in /home"),
        ("/run/wrappers/bin", "is inside /run/wrappers"),
    ] {
        let e = refusal(json!({"a": {"secretPath": "x/a", "outputDir": dir}}));
        assert!(
            e.contains("secrets.a.outputDir:") && e.contains(why),
            "{dir}: {e}"
        );
        assert!(
            e.contains("[rule: system-directory]") && e.contains("e.g. \"/run/secrets/a\""),
            "{dir}: {e}"
        );
    }
    // Below a shared directory is fine.
    spec(json!({"a": {"secretPath": "x/a", "outputDir": "/var/lib/grafana/secrets"}})).unwrap();
    spec(json!({"a": {"secretPath": "x/a", "outputDir": "/run/keys/db"}})).unwrap();
}

#[test]
fn cache_dirs_follow_the_same_rules() {
    let e = refusal(json!({"a": {"secretPath": "x/a", "cacheDir": "/var/lib/grafana"}}));
    assert!(
        e.contains("secrets.a.cacheDir:") && e.contains("system-directory"),
        "{e}"
    );
    let e = refusal(json!({"a": {"secretPath": "x/a", "cacheDir": "/etc/vk"}}));
    assert!(e.contains("inside /etc"), "{e}");
}

#[test]
fn nothing_but_caches_inside_the_state_dir() {
    let e =
        refusal(json!({"a": {"secretPath": "x/a", "outputDir": "/var/lib/vaultkeeper/approle"}}));
    assert!(
        e.contains("secrets.a.outputDir:") && e.contains("[rule: inside-state-dir]"),
        "{e}"
    );
    let e =
        refusal(json!({"a": {"secretPath": "x/a", "cacheDir": "/var/lib/vaultkeeper/approle"}}));
    assert!(
        e.contains("secrets.a.cacheDir:") && e.contains("inside-state-dir"),
        "{e}"
    );
    let e = refusal(json!({"a": {"secretPath": "x/a", "cacheDir": "/var/lib/vaultkeeper"}}));
    assert!(e.contains("contains-state-dir"), "{e}");
    let e = refusal(json!({"a": {"secretPath": "x/a", "cacheDir": "/var/lib/vaultkeeper/cache"}}));
    assert!(e.contains("inside-state-dir"), "{e}");
    // The default and any directory below <stateDir>/cache/ are fine.
    let s = spec(json!({"a": {"secretPath": "x/a"}, "b": {"secretPath": "x/b", "cacheDir": "/var/lib/vaultkeeper/cache/bee"}})).unwrap();
    assert_eq!(
        s.secrets["a"].cache_dir.to_str(),
        Some("/var/lib/vaultkeeper/cache/a")
    );
    // An outputDir containing the state dir is refused.
    let e = spec_with(
        json!({"stateDir": "/srv/vk/state"}),
        json!({"a": {"secretPath": "x/a", "outputDir": "/srv/vk"}}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("contains-state-dir"), "{e}");
}

#[test]
fn credentials_inside_an_output_dir_are_refused() {
    let e = spec_with(
        json!({"approle": {"roleIdFile": "/run/secrets/app/role-id", "secretIdFile": "/root/x"}}),
        json!({"a": {"secretPath": "x/a", "outputDir": "/run/secrets/app"}}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("contains approle.roleIdFile") && e.contains("contains-credentials"),
        "{e}"
    );
}

#[test]
fn nested_and_shared_directories_are_refused_naming_both() {
    let e = refusal(json!({
        "a": {"secretPath": "x/a", "outputDir": "/run/secrets/a"},
        "b": {"secretPath": "x/b", "outputDir": "/run/secrets/a/b"},
    }));
    assert!(
        e.contains("secrets.a.outputDir: \"/run/secrets/a\" contains secrets.b.outputDir")
            && e.contains("[rule: nested]"),
        "{e}"
    );
    let e = refusal(json!({
        "a": {"secretPath": "x/a", "outputDir": "/run/secrets/a"},
        "b": {"secretPath": "x/b", "outputDir": "/run/secrets/a"},
    }));
    assert!(e.contains("is also secrets.b.outputDir"), "{e}");
    let e = refusal(json!({
        "a": {"secretPath": "x/a", "outputDir": "/run/secrets/a", "cacheDir": "/run/secrets/a/cache"},
    }));
    assert!(e.contains("contains secrets.a.cacheDir"), "{e}");
}

#[test]
fn paths_must_be_normalised_absolute_and_not_reserved() {
    for (dir, what) in [
        ("run/secrets/a", "is not an absolute path"),
        (
            "/run/secrets/a/",
            "is not normalised; write \"/run/secrets/a\"",
        ),
        ("/run//secrets/a", "is not normalised"),
        ("/run/./secrets/a", "is not normalised"),
        ("/run/secrets/../a", "contains \"..\""),
        ("/", "is the root directory"),
        ("/run/secrets/a\nb", "control character"),
    ] {
        let e = refusal(json!({"a": {"secretPath": "x/a", "outputDir": dir}}));
        assert!(
            e.contains(what) && e.contains("[rule: normalised-absolute]"),
            "{dir:?}: {e}"
        );
    }
    let e =
        refusal(json!({"a": {"secretPath": "x/a", "outputDir": "/run/secrets/.b.vaultkeeper"}}));
    assert!(e.contains("[rule: reserved-name]"), "{e}");
    let long = format!("/run/secrets/{}", "x".repeat(201));
    let e = refusal(json!({"a": {"secretPath": "x/a", "outputDir": long}}));
    assert!(e.contains("last component longer than 200"), "{e}");
}

#[test]
fn the_state_dir_is_not_a_system_directory() {
    for d in ["/etc", "/var/lib", "/run", "/usr/local/vk"] {
        let e = spec_with(json!({"stateDir": d}), json!({}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("stateDir:") && e.contains("system-directory"),
            "{d}: {e}"
        );
    }
    spec_with(json!({"stateDir": "/var/lib/vk"}), json!({})).unwrap();
}

#[test]
fn special_mode_bits_are_refused_at_load() {
    for m in ["4555", "6550", "1400"] {
        let e = refusal(json!({"a": {"secretPath": "x/a", "mode": m}}));
        assert!(
            e.contains("secrets.a.mode:") && e.contains("permission-bits-only"),
            "{m}: {e}"
        );
    }
    let s = spec(json!({"a": {"secretPath": "x/a", "mode": "0500"}})).unwrap();
    assert_eq!(s.warnings().len(), 1, "{:?}", s.warnings());
    assert!(
        s.warnings()[0].contains("secrets.a.mode: mode 0500 makes the secret's files executable")
    );
}
