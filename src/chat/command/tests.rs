//! Unit tests of command.rs.

use super::*;

#[test]
fn form_fields_and_words() {
    let c = parse_form(b"token=x&team_id=T1&channel_id=C0OPS&user_id=U0ME&command=%2Fvault&text=Status+now&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fabc&channel_id=C0EVIL");
    assert_eq!(c.command, "/vault");
    assert_eq!(c.text, "Status now");
    assert_eq!(c.channel_id, "C0OPS", "the first value counts");
    assert_eq!(c.user_id, "U0ME");
    assert_eq!(c.response_url, "https://hooks.slack.com/commands/T1/1/abc");
    assert_eq!(parse_ask("Status now"), Ok(Ask::Status));
    assert_eq!(parse_ask("  "), Ok(Ask::Help));
    assert_eq!(parse_ask("version"), Ok(Ask::Updates));
    assert_eq!(parse_ask("rm -rf"), Err("rm".into()));
    assert_eq!(parse_ask(&"x".repeat(100)), Err("x".repeat(40)));
    assert_eq!(parse_form(b"\xff\xfe=%zz&&=").command, "");
    assert!(is_ssl_check(b"ssl_check=1&token=abc"));
    assert!(!is_ssl_check(b"ssl_check=1&command=%2Fvault&text=status"));
    assert!(!is_ssl_check(b"ssl_check=0"));
    assert!(!is_ssl_check(b""));
    assert_eq!(loggable_id("C0OPS"), "C0OPS");
    assert_eq!(loggable_id("C0\nfake log line"), "(invalid id)");
}
