//! Unit files from what the NixOS module evaluates `systemd.services` to, the
//! way NixOS writes them: lists become one line per value, booleans
//! true/false, `wantedBy` an [Install] section (enabled with `systemctl enable`).
#![allow(dead_code)]

use serde_json::{Map, Value};

fn value(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(value).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        Value::Null => vec![],
        Value::Object(_) => panic!("a unit setting cannot be an attribute set: {v}"),
    }
}

fn lines(out: &mut String, key: &str, v: &Value) {
    for s in value(v) {
        out.push_str(&format!("{key}={s}\n"));
    }
}

fn section(out: &mut String, settings: Option<&Value>) {
    for (k, v) in settings.and_then(Value::as_object).unwrap_or(&Map::new()) {
        lines(out, k, v);
    }
}

/// The text of `<name>.service` for one entry of `systemd.services`.
pub fn render(service: &Value) -> String {
    let mut out = String::from("[Unit]\n");
    if let Some(d) = service.get("description") {
        lines(&mut out, "Description", d);
    }
    for (attr, key) in [
        ("wants", "Wants"),
        ("requires", "Requires"),
        ("after", "After"),
        ("before", "Before"),
    ] {
        if let Some(v) = service.get(attr) {
            lines(&mut out, key, v);
        }
    }
    section(&mut out, service.get("unitConfig"));
    // What switch-to-configuration reads, as NixOS writes it: the triggers as
    // one value that changes with their content, X-RestartIfChanged=false.
    for (attr, key) in [
        ("restartTriggers", "X-Restart-Triggers"),
        ("reloadTriggers", "X-Reload-Triggers"),
    ] {
        if let Some(v) = service
            .get(attr)
            .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        {
            use sha2::Digest;
            let digest = hex::encode(sha2::Sha256::digest(v.to_string().as_bytes()));
            out.push_str(&format!("{key}={digest}\n"));
        }
    }
    if service.get("restartIfChanged") == Some(&Value::Bool(false)) {
        out.push_str("X-RestartIfChanged=false\n");
    }
    out.push_str("\n[Service]\n");
    section(&mut out, service.get("serviceConfig"));
    out.push_str("\n[Install]\n");
    if let Some(v) = service.get("wantedBy") {
        lines(&mut out, "WantedBy", v);
    }
    out
}

/// The text of `<name>.path` for one entry of `systemd.paths`.
pub fn render_path(path: &Value) -> String {
    let mut out = String::from("[Unit]\n");
    if let Some(d) = path.get("description") {
        lines(&mut out, "Description", d);
    }
    out.push_str("\n[Path]\n");
    section(&mut out, path.get("pathConfig"));
    out.push_str("\n[Install]\n");
    if let Some(v) = path.get("wantedBy") {
        lines(&mut out, "WantedBy", v);
    }
    out
}

#[test]
fn renders_lists_booleans_and_install() {
    let unit = render(&serde_json::json!({
        "description": "x",
        "after": ["a.service", "b.service"],
        "requires": [],
        "wantedBy": ["multi-user.target"],
        "unitConfig": { "ConditionPathExists": "!/x" },
        "serviceConfig": { "Type": "oneshot", "RemainAfterExit": true,
                           "SystemCallFilter": ["@system-service", "~@resources"] },
        "restartTriggers": [],
        "reloadTriggers": ["/nix/store/x-spec.json"],
        "restartIfChanged": false
    }));
    assert_eq!(
        unit,
        "[Unit]\nDescription=x\nAfter=a.service\nAfter=b.service\nConditionPathExists=!/x\n\
         X-Reload-Triggers=81583a7d1a559ca4d9eae4b96d70e07a35f5b33186bc9d05ba76be2cbba5716b\nX-RestartIfChanged=false\n\n\
         [Service]\nRemainAfterExit=true\nSystemCallFilter=@system-service\nSystemCallFilter=~@resources\nType=oneshot\n\n\
         [Install]\nWantedBy=multi-user.target\n"
    );
}
