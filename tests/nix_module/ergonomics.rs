//! What sops-nix and agenix users rely on: read-only `path`/`keyPaths` to
//! reference, `group` from the owner's primary group, `credentialFor` for
//! `DynamicUser=` services, and a warning for a `services` typo.

use super::nix_or_skip;
use serde_json::json;

#[test]
fn path_and_key_paths_are_the_normalised_output_dir() {
    let nix = nix_or_skip!("path_and_key_paths_are_the_normalised_output_dir");
    let got = nix.eval("ergonomics");
    assert_eq!(got["failedAssertions"], json!([]));
    let g = &got["secretPaths"]["grafana"];
    assert_eq!(g["path"], "/run/secrets/grafana");
    assert_eq!(
        g["keyPaths"],
        json!({"password": "/run/secrets/grafana/password", "user": "/run/secrets/grafana/user"})
    );
    // No keys declared: no key paths (a reference to one fails the evaluation).
    assert_eq!(got["secretPaths"]["other"]["keyPaths"], json!({}));
    // The getting-started idiom, through another module's option.
    assert_eq!(
        got["services"]["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"],
        "$__file{/run/secrets/grafana/password}"
    );
    // Normalised: a trailing slash in outputDir is not in `path`.
    let got = nix.eval("paths-normalised");
    assert_eq!(got["secretPaths"]["db"]["path"], "/run/secrets/db");
    assert_eq!(got["secretPaths"]["api"]["path"], "/run/vault-secrets/api");
    // Read-only: a definition is an error.
    let lib = nix.lib().display().to_string();
    let out = std::process::Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "--expr"])
        .arg(format!(
            r#"let lib = import {lib}; in (lib.evalModules {{ modules = [ ./nix/module ./nix/tests/stubs.nix
                {{ _module.args.pkgs = import ./nix/tests/pkgs.nix; }}
                {{ vault.secrets.x = {{ secretPath = "a"; path = "/tmp/x"; }}; }} ]; }}).config.vault.secrets.x.path"#
        ))
        .current_dir(crate::nix_eval::repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("vault.secrets.x.path") && err.contains("read-only"),
        "{err}"
    );
}

#[test]
fn group_defaults_to_the_owners_primary_group() {
    let nix = nix_or_skip!("group_defaults_to_the_owners_primary_group");
    let got = nix.eval("ergonomics");
    let s = &got["spec"]["secrets"];
    // users.users.grafana.group = "grafana-g".
    assert_eq!(s["grafana"]["group"], "grafana-g");
    // Declared without a group, or not declared at all: root.
    assert_eq!(s["other"]["group"], "root");
    assert_eq!(
        nix.eval("defaults")["spec"]["secrets"]["grafana"]["group"],
        "root"
    );
    // Set explicitly: kept.
    assert_eq!(s["explicit"]["group"], "wheel");
}

#[test]
fn credential_for_loads_each_key_into_dynamic_user_services() {
    let nix = nix_or_skip!("credential_for_loads_each_key_into_dynamic_user_services");
    let got = nix.eval("ergonomics");
    let svc = &got["services"];
    // The service's own LoadCredential= stays; ours are appended.
    assert_eq!(
        svc["dyn"]["serviceConfig"]["LoadCredential"],
        json!([
            "own:/etc/own",
            "grafana.password:/run/secrets/grafana/password",
            "grafana.user:/run/secrets/grafana/user"
        ])
    );
    assert_eq!(
        svc["dyn2"]["serviceConfig"]["LoadCredential"],
        json!([
            "grafana.password:/run/secrets/grafana/password",
            "grafana.user:/run/secrets/grafana/user"
        ])
    );
    for s in ["dyn", "dyn2"] {
        assert_eq!(
            svc[s]["requires"],
            json!(["vault-secret-grafana.service"]),
            "{s}"
        );
        assert_eq!(
            svc[s]["after"],
            json!(["vault-secret-grafana.service"]),
            "{s}"
        );
    }
    assert_eq!(
        svc["vault-secret-grafana"]["before"],
        json!(["grafana.service", "dyn.service", "dyn2.service"])
    );
    // A credential is a copy taken at start: the agent restarts them on a change.
    assert_eq!(
        got["spec"]["secrets"]["grafana"]["services"],
        json!(["grafana", "dyn", "dyn2.service"])
    );
    // Without declared keys there is nothing to load: an assertion says what to add.
    let err: Vec<String> =
        serde_json::from_value(nix.eval("credential-no-keys")["failedAssertions"].clone()).unwrap();
    assert_eq!(
        err,
        ["vault.secrets.grafana.credentialFor = [ \"dyn\" ], but vault.secrets.grafana.keys is empty:\n\
          each declared key becomes one credential <name>.<key>. List the keys the services read,\n\
          e.g. vault.secrets.grafana.keys = [ \"password\" ];"]
    );
}

#[test]
fn a_service_no_module_declares_gets_a_warning() {
    let nix = nix_or_skip!("a_service_no_module_declares_gets_a_warning");
    let got = nix.eval("ergonomics");
    // "grafna" (a typo) warns; "grafana" (declared), "dyn" (credentialFor,
    // declared) and "backup.timer" (not a service unit) do not.
    assert_eq!(
        got["warnings"],
        json!(["vault.secrets.other.services lists \"grafna\", which no module\n\
                declares in systemd.services: the module would create an empty unit holding only the\n\
                ordering on the secret. Check the spelling (e.g. \"grafana\", not \"grafana-server\"); if the unit\n\
                comes from systemd.packages, declare it with systemd.services.<name>.wantedBy = [ ... ];"])
    );
}

#[test]
fn enable_and_package_are_the_standard_options() {
    let nix = nix_or_skip!("enable_and_package_are_the_standard_options");
    let lib = nix.lib().display().to_string();
    let got = nix.eval_expr(&format!(
        r#"let lib = import {lib};
             eval = lib.evalModules {{ modules = [ ./nix/module ./nix/tests/stubs.nix
               {{ _module.args.pkgs = import ./nix/tests/pkgs.nix; }} ]; }};
             o = eval.options.vault; in {{
          enable = {{ inherit (o.enable) description default; }};
          package = {{ inherit (o.package) description; default = o.package.defaultText.text; }};
          packagePath = eval.config.vault.package.outPath;
        }}"#
    ));
    assert_eq!(
        got["enable"],
        json!({"default": false, "description": "Whether to enable vaultkeeper, the agent that puts Vault/OpenBao KV secrets into files for\nthe services of this host."})
    );
    assert_eq!(
        got["package"],
        json!({"default": "pkgs.vaultkeeper", "description": "The vaultkeeper package to use. The flake's module sets it to the flake's own build."})
    );
    assert_eq!(got["packagePath"], super::PKG);
}
