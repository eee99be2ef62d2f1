//! `nix/defaults.json`: the spec's defaults, as the parser fills them in, for the
//! NixOS module (nix/module/options.nix and spec.nix read it with
//! `builtins.fromJSON`) instead of copies of the values in Nix.
//!
//! The values are not written down here: a minimal spec (one secret, an audit
//! and a chat section with only their required keys) goes through
//! [`Spec::from_json`], and what comes out is written in the spec's own
//! notation (`"5m"`, `"daily"`, `"32MiB"`, `"0400"`). The file is itself a valid
//! spec fragment. The unit test below fails when the checked-in file differs;
//! `VAULTKEEPER_REGENERATE=1 cargo test --lib defaults_file` rewrites it.

use super::interval::parse_restart_interval;
use super::model::{KvVersion, Spec};
use super::on_change::OnChange;
use serde_json::{json, Value};
use std::time::Duration;

/// The spec every default is read from: only the keys that have no default.
const MINIMAL_SPEC: &str = r#"{
  "vault": { "address": "https://vault.example:8200" },
  "secrets": { "s": { "secretPath": "hosts/h/s" } },
  "audit": { "listen": ["unix:/run/vaultkeeper/audit.sock"],
             "slack": { "webhookUrlFile": "/run/secrets/slack/webhook-url" } },
  "chat": { "listen": "127.0.0.1:8093", "signingSecretFile": "/run/secrets/slack/signing-secret" }
}"#;

/// Where the file lives, relative to the repository root.
pub(crate) const DEFAULTS_FILE: &str = "nix/defaults.json";

/// A duration as the spec writes it (humantime: `"5m"`, `"1h"`, `"10s"`).
fn duration(d: Duration) -> Value {
    json!(humantime::format_duration(d).to_string())
}

/// A `restartInterval`: the calendar word when one means exactly this long.
fn restart_interval(d: Duration) -> Value {
    ["daily", "weekly", "monthly"]
        .into_iter()
        .find(|w| parse_restart_interval(w).ok() == Some(d))
        .map_or_else(|| duration(d), |w| json!(w))
}

/// A byte count in the largest binary unit that divides it (`"32MiB"`).
fn size(bytes: u64) -> Value {
    let unit = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        .into_iter()
        .find(|(_, n)| bytes != 0 && bytes % n == 0);
    match unit {
        Some((name, n)) => json!(format!("{}{name}", bytes / n)),
        None => json!(bytes.to_string()),
    }
}

fn on_change(o: OnChange) -> &'static str {
    match o {
        OnChange::Restart => "restart",
        OnChange::Reload => "reload",
        OnChange::None => "none",
    }
}

fn kv_version(v: KvVersion) -> u8 {
    match v {
        KvVersion::V1 => 1,
        KvVersion::V2 => 2,
    }
}

/// The defaults of [`MINIMAL_SPEC`] as the parser filled them in, shaped like
/// the spec (a secret's under `secret`).
pub(crate) fn defaults_json() -> Value {
    let spec = Spec::from_json("defaults_file::MINIMAL_SPEC", MINIMAL_SPEC)
        .expect("the minimal spec is valid");
    let secret = &spec.secrets["s"];
    let audit = spec.audit.as_ref().expect("the minimal spec has audit");
    let slack = audit
        .slack
        .as_ref()
        .expect("the minimal spec has audit.slack");
    let chat = spec.chat.as_ref().expect("the minimal spec has chat");
    let backoff = &spec.approle.login_backoff;
    json!({
        "vault": {
            "timeout": duration(spec.vault.timeout),
            "maxResponseSize": size(spec.vault.max_response_size),
        },
        "approle": {
            "mount": spec.approle.mount,
            "wrappedTokenEnv": spec.approle.wrapped_token_env,
            "loginBackoff": {
                "maxFailures": backoff.max_failures,
                "window": duration(backoff.window),
                "retryInterval": duration(backoff.retry_interval),
            },
        },
        "stateDir": spec.state_dir,
        "secretsDir": secret.output_dir.parent(),
        "refreshInterval": duration(spec.refresh_interval),
        "restartRandomizedDelay": duration(spec.restart_randomized_delay),
        "secret": {
            "kvMount": secret.kv_mount,
            "kvVersion": kv_version(secret.kv_version),
            "owner": secret.owner,
            "group": secret.group,
            "mode": format!("{:04o}", secret.mode),
            "restartInterval": restart_interval(secret.restart_interval),
            "onChange": on_change(secret.on_change),
        },
        "audit": {
            "maxConnections": audit.max_connections,
            "idleTimeout": duration(audit.idle_timeout),
            "queueBytes": audit.queue_bytes,
            "memoryBudget": audit.memory_budget,
            "spillBytes": audit.spill_bytes,
            "statsInterval": duration(audit.stats_interval),
            "slack": {
                "timeout": duration(slack.timeout),
                "responseTimeout": duration(slack.response_timeout),
            },
        },
        "insights": {
            "sealedAlert": spec.insights.sealed_alert,
            "sealCheckInterval": duration(spec.insights.seal_check_interval),
        },
        "chat": {
            "collectionInterval": duration(chat.collection_interval),
            "responseType": chat.response_type.as_str(),
        },
    })
}

/// The file's text: pretty JSON and a final newline.
pub(crate) fn defaults_text() -> String {
    let mut text = serde_json::to_string_pretty(&defaults_json()).expect("JSON serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULTS_FILE)
    }

    #[test]
    fn the_checked_in_defaults_file_matches_the_spec_parser() {
        let want = defaults_text();
        if std::env::var("VAULTKEEPER_REGENERATE").as_deref() == Ok("1") {
            std::fs::write(path(), &want).expect("write nix/defaults.json");
        }
        let got = std::fs::read_to_string(path()).unwrap_or_else(|e| {
            panic!("cannot read {DEFAULTS_FILE} ({e}); write it with: VAULTKEEPER_REGENERATE=1 cargo test --lib defaults_file")
        });
        assert!(
            got == want,
            "{DEFAULTS_FILE} differs from the spec parser's defaults; regenerate it with:\n  \
             VAULTKEEPER_REGENERATE=1 cargo test --lib defaults_file\n--- checked in:\n{got}\n--- parser:\n{want}"
        );
    }

    /// The file, written back into the minimal spec, changes nothing: every
    /// value is in the spec's own notation and means the default.
    #[test]
    fn the_defaults_written_out_parse_back_to_the_same_spec() {
        let d = defaults_json();
        let mut spec: Value = serde_json::from_str(MINIMAL_SPEC).unwrap();
        spec["vault"]["timeout"] = d["vault"]["timeout"].clone();
        spec["vault"]["maxResponseSize"] = d["vault"]["maxResponseSize"].clone();
        spec["approle"] = d["approle"].clone();
        for k in ["stateDir", "refreshInterval", "restartRandomizedDelay"] {
            spec[k] = d[k].clone();
        }
        let s = &mut spec["secrets"]["s"];
        for (k, v) in d["secret"].as_object().unwrap() {
            s[k] = v.clone();
        }
        s["outputDir"] = json!(format!("{}/s", d["secretsDir"].as_str().unwrap()));
        for (k, v) in d["audit"].as_object().unwrap() {
            if k == "slack" {
                for (sk, sv) in v.as_object().unwrap() {
                    spec["audit"]["slack"][sk] = sv.clone();
                }
            } else {
                spec["audit"][k] = v.clone();
            }
        }
        spec["insights"] = d["insights"].clone();
        for (k, v) in d["chat"].as_object().unwrap() {
            spec["chat"][k] = v.clone();
        }
        let spelled_out = Spec::from_json("spelled out", &spec.to_string()).unwrap();
        let minimal = Spec::from_json("minimal", MINIMAL_SPEC).unwrap();
        assert_eq!(spelled_out, minimal);
    }

    #[test]
    fn values_are_written_in_the_spec_notation() {
        assert_eq!(size(32 << 20), json!("32MiB"));
        assert_eq!(size(1 << 30), json!("1GiB"));
        assert_eq!(size(1000), json!("1000"));
        assert_eq!(restart_interval(Duration::from_secs(86400)), json!("daily"));
        assert_eq!(
            restart_interval(Duration::from_secs(36 * 3600)),
            json!("1day 12h")
        );
        assert_eq!(duration(Duration::from_secs(300)), json!("5m"));
    }
}
