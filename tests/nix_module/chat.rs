//! `vault.chat.*`: the Slack slash-command endpoint in the module: its spec
//! section, its assertion, its types, and no firewall port opened.

use super::nix_or_skip;
use serde_json::json;

#[test]
fn chat_options_reach_the_spec_and_open_no_port() {
    let nix = nix_or_skip!("chat_options_reach_the_spec_and_open_no_port");
    let got = nix.eval("chat");
    assert_eq!(
        got["spec"]["chat"],
        json!({
            "listen": "127.0.0.1:8094",
            "signingSecretFile": "/run/secrets/slack-app/signing-secret",
            "allowedChannels": ["C0OPS42", "G0PRIVATE"],
            "allowedUsers": ["U0ALICE"],
            "collectionInterval": "5m",
            "responseType": "in_channel"
        })
    );
    assert_eq!(got["failedAssertions"], json!([]));
    assert_eq!(got["warnings"], json!([]));
    assert_eq!(got["firewallTCPPorts"], json!([]), "no port is opened");
    // The daemon serves it: its sandbox must allow TCP.
    let families = &got["services"]["vaultkeeper"]["serviceConfig"]["RestrictAddressFamilies"];
    assert!(
        families.as_array().unwrap().contains(&json!("AF_INET")),
        "{families}"
    );
    // Off by default, and then no section at all.
    let defaults = nix.eval("defaults");
    assert!(
        defaults["spec"].get("chat").is_none(),
        "{}",
        defaults["spec"]
    );
    assert_eq!(defaults["firewallTCPPorts"], json!([]));

    // The agent accepts what the module generates.
    let out = crate::nix_eval::vaultkeeper_check(got["specFile"]["text"].as_str().unwrap());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn chat_needs_its_signing_secret_and_ids_not_names() {
    let nix = nix_or_skip!("chat_needs_its_signing_secret_and_ids_not_names");
    let got = nix.eval("chat-no-secret");
    assert_eq!(
        got["failedAssertions"],
        json!([
            "vault.chat.enable is true, but vault.chat.signingSecretFile is not set: Slack's requests\ncannot be verified without the app's signing secret. Set\nvault.chat.signingSecretFile = \"/run/secrets/slack-app/signing-secret\"; (a file holding it, mode 0400)."
        ])
    );
    let err = nix.eval_error("chat-channel-name", "spec");
    assert!(
        err.contains("A definition for option `vault.chat.allowedChannels.\"[definition 1-entry 1]\"' is not of type `string matching the pattern [CGD][A-Z0-9]{2,31}'"),
        "{err}"
    );
    let err = nix.eval_error("chat-listen-name", "spec");
    assert!(
        err.contains("A definition for option `vault.chat.listen' is not of type `IP address and port such as \"127.0.0.1:8093\" or \"[::1]:8093\"'"),
        "{err}"
    );
}
