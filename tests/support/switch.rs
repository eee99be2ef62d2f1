//! What `switch-to-configuration` does to systemd units when a NixOS host
//! switches from one build to another, reduced to the rules that decide
//! restarts (nixpkgs' switch-to-configuration-ng, `handle_modified_unit`):
//!
//! - a unit that is not active is only written (a new unit wanted by
//!   multi-user.target is started);
//! - an active unit whose file did not change is left alone;
//! - an active unit whose file changed: nothing when it says
//!   `X-RestartIfChanged=false`; a reload when only its `X-Reload-Triggers=`
//!   changed (or `X-ReloadIfChanged=true`); else it is stopped before the
//!   new files are in place and started after (a restart);
//! - an active unit that is gone is stopped.
//!
//! Files are written, then `systemctl daemon-reload`, then reloads, restarts
//! and starts, as the real script orders them.
#![allow(dead_code)]

use crate::container::Container;
use std::collections::BTreeMap;

/// What a switch did, unit by unit.
#[derive(Debug, Default)]
pub struct Switched {
    pub stopped: Vec<String>,
    pub restarted: Vec<String>,
    pub reloaded: Vec<String>,
    pub started: Vec<String>,
    /// Changed, but `X-RestartIfChanged=false`.
    pub left_running: Vec<String>,
}

fn setting<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn without_reload_triggers(unit: &str) -> String {
    unit.lines()
        .filter(|l| !l.starts_with("X-Reload-Triggers="))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Switches the container from the units `old` to `new` (file name -> text),
/// writing `files` (path -> (text, mode)) along with the unit files.
pub fn switch(
    c: &Container,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    files: &[(String, String, u32)],
) -> Switched {
    let mut s = Switched::default();
    let active = |u: &str| c.stdout(&["systemctl", "is-active", u]) == "active";
    let mut to_restart = Vec::new();
    for (name, text) in old {
        if !active(name) {
            continue;
        }
        match new.get(name) {
            None => {
                c.ok(&["systemctl", "stop", name]);
                s.stopped.push(name.clone());
            }
            Some(n) if n == text => {}
            Some(n) => {
                if setting(n, "X-RestartIfChanged") == Some("false") {
                    s.left_running.push(name.clone());
                } else if without_reload_triggers(n) == without_reload_triggers(text)
                    || setting(n, "X-ReloadIfChanged") == Some("true")
                {
                    s.reloaded.push(name.clone());
                } else {
                    // stopIfChanged (the default): stopped with the old files.
                    c.ok(&["systemctl", "stop", name]);
                    to_restart.push(name.clone());
                }
            }
        }
    }
    for name in old.keys() {
        if !new.contains_key(name) {
            let _ = std::fs::remove_file(c.path(&format!("/etc/systemd/system/{name}")));
        }
    }
    for (path, text, mode) in files {
        c.write(path, text, *mode);
    }
    for (name, text) in new {
        c.write_unit(name, text);
    }
    c.daemon_reload();
    for name in &s.reloaded {
        c.ok(&["systemctl", "reload", name]);
    }
    for name in &to_restart {
        c.ok(&["systemctl", "start", name]);
    }
    s.restarted = to_restart;
    for (name, text) in new {
        if !old.contains_key(name) && text.contains("WantedBy=multi-user.target") && !active(name) {
            c.ok(&["systemctl", "start", name]);
            s.started.push(name.clone());
        }
    }
    s
}
