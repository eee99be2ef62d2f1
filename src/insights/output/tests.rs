use crate::vault::failover::AddressState;

#[test]
fn status_lists_each_address_with_its_role_and_last_state() {
    let now = 1_800_000_000;
    let a = |addr: &str, preferred, in_use, out: Option<&str>, err: Option<&str>| AddressState {
        address: addr.into(),
        preferred,
        in_use,
        last_outcome: out.map(str::to_string),
        last_at: out.map(|_| now - 30),
        last_ok_at: (out == Some("success")).then_some(now - 30),
        last_error: err.map(str::to_string),
    };
    let list = vec![
        a(
            "https://v1:8200",
            true,
            false,
            Some("connection_error"),
            Some("connection failed (Connection refused (os error 111))"),
        ),
        a("https://v2:8200", false, true, Some("success"), None),
        a("https://v3:8200", false, false, None, None),
    ];
    let mut o = String::new();
    super::addresses_table(&mut o, &list, now);
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines[1], "Vault addresses (3, in this host's order)");
    assert!(lines[2].starts_with("  ADDRESS"), "{o}");
    assert!(
        lines[3].contains("https://v1:8200")
            && lines[3].contains("preferred")
            && lines[3].contains("connection_error")
            && lines[3].contains("30s ago")
            && lines[3].ends_with("never"),
        "{o}"
    );
    assert!(
        lines[4].contains("in use") && lines[4].contains("success"),
        "{o}"
    );
    assert!(lines[5].contains("not asked yet"), "{o}");
    assert_eq!(
        lines[6],
        "  https://v1:8200: last error: connection failed (Connection refused (os error 111))"
    );
    // One address: the Server line says it all.
    let mut o = String::new();
    super::addresses_table(&mut o, &list[..1], now);
    assert_eq!(o, "");
}
