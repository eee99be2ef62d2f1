//! Unit tests of chat.rs.

use crate::spec::Spec;
use std::time::Duration;

fn spec(chat: &str) -> Result<Spec, String> {
    let text = format!(r#"{{"vault":{{"address":"http://127.0.0.1:8200"}},"chat":{chat}}}"#);
    Spec::from_json("spec.json", &text).map_err(|e| e.to_string())
}

#[test]
fn minimal_section_and_defaults() {
    let s = spec(
        r#"{"listen":"127.0.0.1:8093","signingSecretFile":"/run/secrets/slack/signing-secret"}"#,
    )
    .unwrap();
    let c = s.chat.unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8093");
    assert!(c.allowed_channels.is_empty() && c.allowed_users.is_empty());
    assert_eq!(c.collection_interval, Duration::from_secs(60));
    assert_eq!(c.response_type, super::ResponseType::Ephemeral);
    assert_eq!(c.test_response_origin, None);
    assert!(spec("null").unwrap().chat.is_none());
    let none = Spec::from_json("x", r#"{"vault":{"address":"http://a:1"}}"#).unwrap();
    assert!(none.chat.is_none());
}

#[test]
fn every_key_is_checked_with_its_path() {
    let s = spec(r#"{"listen":"[::1]:9000","signingSecretFile":"/s","allowedChannels":["C01ABCDEF","G0PRIV"],"allowedUsers":["U0ME","W0ENT"],"collectionInterval":"5m","responseType":"in_channel","testResponseOrigin":"http://127.0.0.1:4000/"}"#).unwrap().chat.unwrap();
    assert_eq!(s.allowed_channels, vec!["C01ABCDEF", "G0PRIV"]);
    assert_eq!(s.allowed_users, vec!["U0ME", "W0ENT"]);
    assert_eq!(s.collection_interval, Duration::from_secs(300));
    assert_eq!(s.response_type, super::ResponseType::InChannel);
    assert_eq!(
        s.test_response_origin.as_deref(),
        Some("http://127.0.0.1:4000")
    );
    let e = spec(r##"{"listen":"localhost:80","signingSecretFile":"rel/secret","allowedChannels":["#ops"],"allowedUsers":["C0NOTAUSER"],"collectionInterval":"1s","responseType":"loud"}"##).unwrap_err();
    assert_eq!(
        e,
        "spec.json: 6 problems:\n  - chat.listen: \"localhost:80\" is not an IP address and port; write e.g. \"127.0.0.1:8093\" (a TLS reverse proxy forwards Slack's requests to it)\n  - chat.signingSecretFile: \"rel/secret\" is not an absolute path without \"..\"; write e.g. \"/run/secrets/slack/signing-secret\" (the secret itself never goes in the spec)\n  - chat.allowedChannels[0]: \"#ops\" is not a Slack ID; write the ID (e.g. \"C0123456789\", shown in Slack under the name's details), not a name\n  - chat.allowedUsers[0]: \"C0NOTAUSER\" is not a Slack ID; write the ID (e.g. \"U0123456789\", shown in Slack under the name's details), not a name\n  - chat.collectionInterval: must be between 5s and 24h, e.g. \"1m\"\n  - chat.responseType: \"loud\" is not \"ephemeral\" (only the asker sees the answer) or \"in_channel\""
    );
    let e = spec(r#"{"listen":"127.0.0.1:1","signingSecretFile":"/s","signingSecret":"x"}"#)
        .unwrap_err();
    assert!(
        e.starts_with("spec.json: chat.signingSecret: unknown field `signingSecret`"),
        "{e}"
    );
}

#[test]
fn the_test_origin_is_loopback_only() {
    for bad in [
        "https://hooks.example.com:443",
        "http://localhost:4000",
        "http://10.0.0.1:4000",
        "http://127.0.0.1",
        "http://127.0.0.1:4000/commands",
        "http://u:p@127.0.0.1:4000",
        "file:///etc/passwd",
        "http://[::ffff:10.0.0.1]:80",
    ] {
        let e = spec(&format!(
            r#"{{"listen":"127.0.0.1:1","signingSecretFile":"/s","testResponseOrigin":"{bad}"}}"#
        ))
        .unwrap_err();
        assert!(
            e.starts_with("spec.json: chat.testResponseOrigin: "),
            "{bad}: {e}"
        );
    }
    for good in [
        "http://127.0.0.1:4000",
        "http://[::1]:4000",
        "http://127.9.9.9:1",
    ] {
        spec(&format!(
            r#"{{"listen":"127.0.0.1:1","signingSecretFile":"/s","testResponseOrigin":"{good}"}}"#
        ))
        .unwrap();
    }
}
