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
    out.push_str("\n[Service]\n");
    section(&mut out, service.get("serviceConfig"));
    out.push_str("\n[Install]\n");
    if let Some(v) = service.get("wantedBy") {
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
        "restartTriggers": ["ignored"]
    }));
    assert_eq!(
        unit,
        "[Unit]\nDescription=x\nAfter=a.service\nAfter=b.service\nConditionPathExists=!/x\n\n\
         [Service]\nRemainAfterExit=true\nSystemCallFilter=@system-service\nSystemCallFilter=~@resources\nType=oneshot\n\n\
         [Install]\nWantedBy=multi-user.target\n"
    );
}
