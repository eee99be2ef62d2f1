use crate::spec::Spec;
use serde_json::json;

fn spec(templates: serde_json::Value) -> Result<Spec, String> {
    Spec::from_json(
        "spec.json",
        &json!({
            "vault": {"address": "http://127.0.0.1:8200"},
            "secrets": {
                "grafana": {"secretPath": "hosts/m/grafana"},
                "db": {"secretPath": "hosts/m/db"},
                "api": {"secretPath": "hosts/m/api"}
            },
            "templates": templates
        })
        .to_string(),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn the_issue_example_with_its_defaults() {
    let s = spec(json!({
        "grafana.ini": { "content": "[security]\nadmin_password = {{ grafana.password }}\n",
                         "path": "/run/secrets/rendered/grafana.ini",
                         "owner": "grafana", "group": "grafana", "mode": "0400",
                         "services": ["grafana"], "onChange": "restart" },
        "app.env": { "envFrom": ["db", "api"], "mode": "0440" }
    }))
    .unwrap();
    let g = &s.templates["grafana.ini"];
    assert_eq!(g.secrets(), ["grafana"]);
    assert_eq!((g.owner.as_str(), g.mode), ("grafana", 0o400));
    assert_eq!(g.services, ["grafana"]);
    let a = &s.templates["app.env"];
    assert_eq!(
        a.path,
        std::path::Path::new("/run/secrets/rendered/app.env")
    );
    assert_eq!(a.secrets(), ["api", "db"]);
    assert_eq!(
        (a.owner.as_str(), a.group.as_str(), a.mode),
        ("root", "root", 0o440)
    );
    assert_eq!(a.on_change, crate::spec::OnChange::Restart);
}

#[test]
fn every_unknown_placeholder_is_reported_with_its_json_path() {
    let e = spec(json!({
        "a.conf": { "content": "x={{ grafana.pw }} y={{ graphana.pw }}\nz={{ dbb.url }}" },
        "b.conf": { "content": "{{ nope.k }}" }
    }))
    .unwrap_err();
    assert!(e.contains("3 problems"), "{e}");
    assert!(
            e.contains("templates.a.conf.content: line 1 column 22: {{ graphana.pw }} names an unknown secret: \"graphana\" is not in secrets (known: api, db, grafana)"),
            "{e}"
        );
    assert!(
        e.contains("templates.a.conf.content: line 2 column 3: {{ dbb.url }}"),
        "{e}"
    );
    assert!(
        e.contains("templates.b.conf.content: line 1 column 1: {{ nope.k }}"),
        "{e}"
    );
}

#[test]
fn content_and_env_from_are_exclusive_and_one_is_needed() {
    let e = spec(json!({ "x": { "content": "{{ db.a }}", "envFrom": ["db"] } })).unwrap_err();
    assert!(
        e.contains("templates.x: has both content and envFrom"),
        "{e}"
    );
    let e = spec(json!({ "x": { "mode": "0400" } })).unwrap_err();
    assert!(
        e.contains("templates.x: has neither content nor envFrom"),
        "{e}"
    );
    let e = spec(json!({ "x": { "envFrom": ["db", "dbx", "db"] } })).unwrap_err();
    assert!(
        e.contains("templates.x.envFrom[1]: \"dbx\" is not in secrets"),
        "{e}"
    );
    assert!(
        e.contains("templates.x.envFrom[2]: \"db\" is listed twice"),
        "{e}"
    );
    let e = spec(json!({ "x": { "content": "no secrets" } })).unwrap_err();
    assert!(
        e.contains("templates.x.content: has no {{ SECRET.KEY }}"),
        "{e}"
    );
    let e = spec(json!({ "x": { "envFrom": ["db"], "source": "y" } })).unwrap_err();
    assert!(e.contains("unknown field `source`"), "{e}");
}

#[test]
fn names_paths_and_modes_are_checked() {
    let e = spec(json!({ "db": { "envFrom": ["db"] } })).unwrap_err();
    assert!(
        e.contains("templates.db: \"db\" is also a secret's name"),
        "{e}"
    );
    let e = spec(json!({ "../x": { "envFrom": ["db"] } })).unwrap_err();
    assert!(e.contains("cannot name a template"), "{e}");
    for (path, want) in [
        ("relative/x", "not an absolute path"),
        ("/run/secrets/db/x", "collides with secret db's outputDir"),
        (
            "/run/secrets/.db.vaultkeeper/g1",
            "collides with secret db's generations",
        ),
        ("/var/lib/vaultkeeper/x", "is inside stateDir"),
        ("/run/secrets", "collides with secret"),
        ("/etc/cron.d/x", "[rule: system-directory]"),
        ("/etc/x", "[rule: system-directory]"),
        ("/usr/lib/x", "[rule: system-directory]"),
        ("/run/x/../y", "contains \"..\""),
        ("/run/rendered/", "is not normalised"),
        ("/run/.x.vaultkeeper/y", "[rule: reserved-name]"),
    ] {
        let e = spec(json!({ "x": { "envFrom": ["db"], "path": path } })).unwrap_err();
        assert!(e.contains(want), "{path}: {e}");
    }
    let e = spec(json!({
        "x": { "envFrom": ["db"], "path": "/run/a" },
        "y": { "envFrom": ["db"], "path": "/run/a" }
    }))
    .unwrap_err();
    assert!(
        e.contains("templates.y.path: /run/a is also the path of template x"),
        "{e}"
    );
    for bad in ["0600", "4400", "1400", "0402"] {
        let e = spec(json!({ "x": { "envFrom": ["db"], "mode": bad } })).unwrap_err();
        assert!(e.contains("templates.x.mode"), "{bad}: {e}");
    }
    let e = spec(json!({ "x": { "envFrom": ["db"], "onChange": "kill", "services": ["a b"] } }))
        .unwrap_err();
    assert!(
        e.contains("templates.x.onChange: \"kill\" is not one of"),
        "{e}"
    );
    assert!(
        e.contains("templates.x.services[0]: \"a b\" is not a unit name"),
        "{e}"
    );
}
