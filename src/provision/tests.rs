use super::*;

fn opts() -> Options {
    Options {
        host: "web01".into(),
        approle_mount: "approle".into(),
        kv_mount: "secret".into(),
        kv_version: 2,
        path_prefix: "hosts".into(),
        token_ttl: "1h".into(),
        token_max_ttl: "24h".into(),
        secret_id_ttl: "0".into(),
        wrap_ttl: "24h".into(),
        bound_cidrs: vec![],
    }
}

#[test]
fn policy_grants_read_on_the_host_subtree_only() {
    assert_eq!(
            opts().policy_hcl(),
            "path \"secret/data/hosts/web01/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n\npath \"secret/metadata/hosts/web01/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"
        );
    let v1 = Options {
        kv_version: 1,
        ..opts()
    };
    assert_eq!(
        v1.policy_hcl(),
        "path \"secret/hosts/web01/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"
    );
}

#[test]
fn terraform_names_the_same_policy_and_role() {
    let tf = Options {
        bound_cidrs: vec!["10.0.0.0/24".into()],
        ..opts()
    }
    .terraform();
    assert!(
        tf.contains("resource \"vault_policy\" \"host_web01\""),
        "{tf}"
    );
    assert!(tf.contains("name   = \"host-web01\""));
    assert!(tf.contains("role_name      = \"web01\""));
    assert!(tf.contains("token_ttl      = 3600"));
    assert!(tf.contains("secret_id_bound_cidrs = [\"10.0.0.0/24\"]"));
    assert!(tf.contains("path \"secret/data/hosts/web01/*\""));
}

#[test]
fn bad_options_are_refused() {
    assert!(Options {
        host: "../x".into(),
        ..opts()
    }
    .validate()
    .is_err());
    assert!(Options {
        wrap_ttl: "0".into(),
        ..opts()
    }
    .validate()
    .is_err());
    assert!(Options {
        token_ttl: "soon".into(),
        ..opts()
    }
    .validate()
    .unwrap_err()
    .contains("--token-ttl"));
    assert!(opts().validate().is_ok());
}

#[test]
fn names_are_path_segments() {
    let injection = "a\" {}\npath \"sys/*\" { capabilities = [\"sudo\"] }\npath \"b";
    let bad = |o: Options| o.validate().unwrap_err();
    for v in [
        injection, "*", "../..", "", "a/../b", "a//b", "/a", "a/", ".hidden", "a b", "a\nb", "${x}",
    ] {
        let e = bad(Options {
            kv_mount: v.into(),
            ..opts()
        });
        assert!(e.starts_with("--kv-mount"), "{v:?}: {e}");
        let e = bad(Options {
            path_prefix: v.into(),
            ..opts()
        });
        assert!(e.starts_with("--path-prefix"), "{v:?}: {e}");
        let e = bad(Options {
            approle_mount: v.into(),
            ..opts()
        });
        assert!(e.starts_with("--approle-mount"), "{v:?}: {e}");
        let e = bad(Options {
            host: v.into(),
            ..opts()
        });
        assert!(e.starts_with("--host"), "{v:?}: {e}");
    }
    // a host is one segment; mounts and prefixes may nest
    assert!(bad(Options {
        host: "a/b".into(),
        ..opts()
    })
    .starts_with("--host"));
    assert!(Options {
        kv_mount: "team/kv".into(),
        path_prefix: "hosts/eu-1".into(),
        ..opts()
    }
    .validate()
    .is_ok());
    assert!(bad(Options {
        bound_cidrs: vec!["10.0.0.0/8\"]".into()],
        ..opts()
    })
    .starts_with("--bound-cidr"));
}

#[test]
fn hcl_strings_are_escaped() {
    assert_eq!(hcl_string("plain/path/*"), "\"plain/path/*\"");
    assert_eq!(hcl_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    assert_eq!(hcl_string("${var} %{if}"), "\"$${var} %%{if}\"");
    // Even unvalidated, an injection stays inside one string: one path rule per
    // line that starts a rule, and the quotes of the value are escaped.
    let evil = Options {
        kv_mount: "a\" {}\npath \"sys/*\" { capabilities = [\"sudo\"] }\npath \"b".into(),
        kv_version: 1,
        ..opts()
    };
    let hcl = evil.policy_hcl();
    assert_eq!(
        hcl.lines().filter(|l| l.starts_with("path ")).count(),
        1,
        "{hcl}"
    );
    assert_eq!(hcl.lines().count(), 3, "{hcl}");
}

#[test]
fn dry_run_shows_policy_and_role() {
    let d = opts().dry_run();
    assert!(d.contains("# policy host-web01"), "{d}");
    assert!(d.contains("path \"secret/data/hosts/web01/*\""), "{d}");
    assert!(d.contains("# role auth/approle/role/web01"), "{d}");
    assert!(
        d.contains("\"token_policies\": [\n    \"host-web01\"\n  ]"),
        "{d}"
    );
}
