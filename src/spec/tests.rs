use super::*;
use std::path::PathBuf;
use std::time::Duration;

const FULL: &str = r#"{
  "vault":   { "address": "https://vault01.example:8200", "namespace": null, "caCert": null, "skipVerify": false, "timeout": "10s" },
  "approle": { "mount": "approle", "roleIdFile": "/var/lib/vaultkeeper/approle/role-id", "secretIdFile": "/var/lib/vaultkeeper/approle/secret-id",
               "wrappedTokenEnv": "VAULT_WRAPPED_TOKEN", "wrappedTokenFile": null },
  "stateDir": "/var/lib/vaultkeeper",
  "secrets": {
    "grafana": { "secretPath": "hosts/monitoring01/grafana", "kvMount": "secret", "kvVersion": 2,
                 "outputDir": "/run/secrets/grafana", "cacheDir": "/var/lib/vaultkeeper/cache/grafana",
                 "owner": "grafana", "group": "grafana", "mode": "0400",
                 "services": ["grafana"], "restartTrigger": true, "restartInterval": "daily" }
  },
  "criticalServices": ["bind", "openbao", "step-ca"]
}"#;

fn err(text: &str) -> String {
    Spec::from_json("spec.json", text).unwrap_err().to_string()
}

#[test]
fn the_issue_example_parses_with_its_values() {
    let s = Spec::from_json("spec.json", FULL).unwrap();
    assert_eq!(s.vault.address, "https://vault01.example:8200");
    assert_eq!(s.vault.timeout, Duration::from_secs(10));
    let g = &s.secrets["grafana"];
    assert_eq!(g.mode, 0o400);
    assert_eq!(g.owner, "grafana");
    assert_eq!(g.kv_version, KvVersion::V2);
    assert_eq!(g.restart_interval, Duration::from_secs(86400));
    assert!(s.is_critical("bind.service"));
    assert!(!s.is_critical("grafana"));
}

#[test]
fn defaults_fill_everything_but_address_and_secret_path() {
    let s = Spec::from_json(
        "x",
        r#"{"vault":{"address":"http://127.0.0.1:8200"},"secrets":{"db":{"secretPath":"a/b"}}}"#,
    )
    .unwrap();
    let d = &s.secrets["db"];
    assert_eq!(d.output_dir, PathBuf::from("/run/secrets/db"));
    assert_eq!(d.cache_dir, PathBuf::from("/var/lib/vaultkeeper/cache/db"));
    assert_eq!(
        (d.owner.as_str(), d.group.as_str(), d.mode),
        ("root", "root", 0o400)
    );
    assert_eq!(d.kv_mount, "secret");
    assert_eq!(d.kv_version, KvVersion::V2);
    assert!(d.services.is_empty());
    assert_eq!(d.on_change, OnChange::Restart);
    assert_eq!(d.refresh_interval, Duration::from_secs(300));
    assert_eq!(
        s.approle.role_id_file,
        PathBuf::from("/var/lib/vaultkeeper/approle/role-id")
    );
    assert_eq!(
        s.approle.wrapped_token_env.as_deref(),
        Some("VAULT_WRAPPED_TOKEN")
    );
}

#[test]
fn errors_name_the_json_path() {
    let bad_mode = FULL.replace("\"0400\"", "\"0999\"");
    assert_eq!(
        err(&bad_mode),
        "spec.json: secrets.grafana.mode: \"0999\" is not an octal file mode; write e.g. \"0400\" or \"0440\""
    );
    let unknown = FULL.replace("\"restartTrigger\"", "\"restartTriger\"");
    let e = err(&unknown);
    assert!(e.starts_with("spec.json: secrets.grafana.restartTriger: unknown field `restartTriger`, expected one of"), "{e}");
    let missing = r#"{"vault":{"address":"http://a:1"},"secrets":{"x":{}}}"#;
    assert_eq!(
        err(missing),
        "spec.json: secrets.x: missing field `secretPath`"
    );
    let wrong_type = r#"{"vault":{"address":"http://a:1"},"secrets":{"x":{"secretPath":"a","services":"nginx"}}}"#;
    assert!(err(wrong_type).starts_with("spec.json: secrets.x.services: invalid type: string"));
}

#[test]
fn several_problems_are_all_listed() {
    let t = r#"{"vault":{"address":"vault01"},"secrets":{"../x":{"secretPath":"/","mode":"0644","restartInterval":"often"}}}"#;
    let e = err(t);
    assert!(
        e.contains("vault.address: \"vault01\" is not a Vault address"),
        "{e}"
    );
    assert!(
        e.contains("secrets.../x: \"../x\" cannot name a secret"),
        "{e}"
    );
    assert!(e.contains("secrets.../x.secretPath"), "{e}");
    assert!(
        e.contains("secrets.../x.mode: 0644 lets someone write"),
        "{e}"
    );
    assert!(
        e.contains("secrets.../x.restartInterval: \"often\" is not a restart interval"),
        "{e}"
    );
}

#[test]
fn shared_output_dirs_are_refused() {
    let t = r#"{"vault":{"address":"http://a:1"},"secrets":{"a":{"secretPath":"a","outputDir":"/run/s/x"},"b":{"secretPath":"b","outputDir":"/run/s/x"}}}"#;
    let e = err(t);
    assert!(
        e.contains("secrets.a.outputDir: \"/run/s/x\" is also secrets.b.outputDir"),
        "{e}"
    );
}

#[test]
fn the_environment_fills_only_what_the_spec_leaves_unset() {
    let bare = r#"{"vault":{"address":"https://vault.example:8200"}}"#;
    let mut s = Spec::from_json("x", bare).unwrap();
    let env = |k: &str| match k {
        "VAULT_ADDR" => Some("http://evil:8200/".to_string()),
        "BAO_ADDR" => None,
        "VAULT_NAMESPACE" => Some("team-a".to_string()),
        "BAO_SKIP_VERIFY" => Some("true".to_string()),
        "VAULT_SKIP_VERIFY" => Some("1".to_string()),
        "VAULT_CACERT" => Some("/etc/ssl/vault.pem".to_string()),
        _ => None,
    };
    s.apply_env(env).unwrap();
    // the address and TLS verification are the spec's
    assert_eq!(s.vault.address, "https://vault.example:8200");
    assert!(!s.vault.skip_verify);
    // unset in the spec: filled from the environment
    assert_eq!(s.vault.namespace.as_deref(), Some("team-a"));
    assert_eq!(s.vault.ca_cert, Some(PathBuf::from("/etc/ssl/vault.pem")));
    // set in the spec: kept
    let own = r#"{"vault":{"address":"https://v:1","namespace":"ops","caCert":"/etc/ca.pem"}}"#;
    let mut s = Spec::from_json("x", own).unwrap();
    s.apply_env(env).unwrap();
    assert_eq!(s.vault.namespace.as_deref(), Some("ops"));
    assert_eq!(s.vault.ca_cert, Some(PathBuf::from("/etc/ca.pem")));
}

#[test]
fn an_operator_machine_without_a_spec_uses_the_environment() {
    let env = |k: &str| match k {
        "VAULT_ADDR" => Some("http://vault:1".to_string()),
        "BAO_ADDR" => Some("http://bao:2/".to_string()),
        "VAULT_SKIP_VERIFY" => Some("true".to_string()),
        _ => None,
    };
    let s = Spec::from_env(env).unwrap();
    assert_eq!(s.vault.address, "http://bao:2");
    assert!(!s.vault.skip_verify);
    assert_eq!(s.vault.max_response_size, 32 << 20);
    let none = |_: &str| None;
    assert!(Spec::from_env(none)
        .unwrap_err()
        .to_string()
        .contains("VAULT_ADDR"));
    let bad = |k: &str| (k == "VAULT_ADDR").then(|| "vault:8200".to_string());
    assert!(Spec::from_env(bad).is_err());
}

#[test]
fn max_response_size() {
    let spec = |v: &str| format!(r#"{{"vault":{{"address":"http://a:1","maxResponseSize":{v}}}}}"#);
    let ok = |v: &str| {
        Spec::from_json("x", &spec(v))
            .unwrap()
            .vault
            .max_response_size
    };
    assert_eq!(ok("\"1MiB\""), 1 << 20);
    assert_eq!(ok("1048576"), 1 << 20);
    assert!(err(&spec("\"1KiB\"")).contains("vault.maxResponseSize: 1024 bytes is outside"));
    assert!(err(&spec("\"huge\"")).contains("vault.maxResponseSize: \"huge\" is not a size"));
}

#[test]
fn unit_names() {
    assert_eq!(unit_name("nginx"), "nginx.service");
    assert_eq!(unit_name("nginx.service"), "nginx.service");
    assert_eq!(unit_name("foo.socket"), "foo.socket");
}

#[test]
fn vault_address_is_a_url_or_a_list_of_urls() {
    let spec = |v: &str| Spec::from_json("t", &format!(r#"{{"vault":{{"address":{v}}}}}"#));
    let one = spec(r#""https://a:8200/""#).unwrap();
    assert_eq!(one.vault.address, "https://a:8200");
    assert_eq!(one.vault.addresses, vec!["https://a:8200"]);
    let many = spec(r#"["https://a:8200", "https://b:8200/", "http://127.0.0.1:8202"]"#).unwrap();
    assert_eq!(many.vault.address, "https://a:8200");
    assert_eq!(
        many.vault.addresses,
        vec!["https://a:8200", "https://b:8200", "http://127.0.0.1:8202"]
    );
    let e = |v: &str| spec(v).unwrap_err().to_string();
    assert!(
        e("[]").contains("vault.address: the list is empty"),
        "{}",
        e("[]")
    );
    let m = e(r#"["https://a:8200", "vault02"]"#);
    assert!(
        m.contains("vault.address[1]") && m.contains("\"vault02\""),
        "{m}"
    );
    // the same origin twice, spelled differently (explicit default port)
    let m = e(r#"["https://a", "https://A:443/"]"#);
    assert!(
        m.contains("vault.address[1]") && m.contains("listed twice"),
        "{m}"
    );
    let m = e("42");
    assert!(m.contains("a URL string or a list of URL strings"), "{m}");
    let m = e(r#"["https://a", 7]"#);
    assert!(m.contains("vault.address"), "{m}");
    let list: Vec<String> = (0..40).map(|i| format!("\"https://n{i}:8200\"")).collect();
    let m = e(&format!("[{}]", list.join(",")));
    assert!(m.contains("more than 16 addresses"), "{m}");
    let list: Vec<String> = (0..16).map(|i| format!("\"https://n{i}:8200\"")).collect();
    assert_eq!(
        spec(&format!("[{}]", list.join(",")))
            .unwrap()
            .vault
            .addresses
            .len(),
        16
    );
}

#[test]
fn boot_cache_max_age_defaults_overrides_and_bounds() {
    let s = Spec::from_json(
        "x",
        r#"{"vault":{"address":"http://127.0.0.1:8200"},"bootCacheMaxAge":"30m",
            "secrets":{"a":{"secretPath":"a/a"},"b":{"secretPath":"a/b","bootCacheMaxAge":"0s"}}}"#,
    )
    .unwrap();
    assert_eq!(s.boot_cache_max_age, Duration::from_secs(1800));
    assert_eq!(s.secrets["a"].boot_cache_max_age, Duration::from_secs(1800));
    assert_eq!(s.secrets["b"].boot_cache_max_age, Duration::ZERO);
    let d = Spec::from_json(
        "x",
        r#"{"vault":{"address":"http://127.0.0.1:8200"},"secrets":{"a":{"secretPath":"a/a"}}}"#,
    )
    .unwrap();
    assert_eq!(d.secrets["a"].boot_cache_max_age, Duration::from_secs(900));
    let bad = |json: &str| err(json);
    let e = bad(r#"{"vault":{"address":"http://127.0.0.1:8200"},"bootCacheMaxAge":"soon"}"#);
    assert!(e.starts_with("spec.json: bootCacheMaxAge: "), "{e}");
    let e = bad(
        r#"{"vault":{"address":"http://127.0.0.1:8200"},"secrets":{"a":{"secretPath":"a/a","bootCacheMaxAge":"30d"}}}"#,
    );
    assert!(
        e.contains("secrets.a.bootCacheMaxAge: must be at most 7d"),
        "{e}"
    );
}

#[test]
fn vault_failback_defaults_to_ten_minutes_and_is_bounded() {
    let s = Spec::from_json("spec.json", FULL).unwrap();
    assert_eq!(s.vault.failback, Duration::from_secs(600));
    let s = Spec::from_json(
        "x",
        r#"{"vault":{"address":["http://127.0.0.1:8200","http://127.0.0.1:8210"],"failback":"90s"}}"#,
    )
    .unwrap();
    assert_eq!(s.vault.failback, Duration::from_secs(90));
    for v in ["\"0s\"", "\"2d\"", "\"later\""] {
        let e = err(&format!(
            r#"{{"vault":{{"address":"http://127.0.0.1:8200","failback":{v}}}}}"#
        ));
        assert!(e.contains("vault.failback: "), "{e}");
    }
}
