use super::*;

#[test]
fn pinnable_addresses_are_https_or_loopback_and_alone() {
    assert_eq!(
        check_pinnable("https://vault.example.org:8200/").unwrap(),
        "https://vault.example.org:8200"
    );
    for ok in [
        "http://127.0.0.1:8200",
        "http://[::1]:8200",
        "http://localhost:8200",
    ] {
        assert!(check_pinnable(ok).is_ok(), "{ok}");
    }
    for (bad, why) in [
        ("http://vault.example.org:8200", "plain http"),
        ("http://10.0.0.5:8200", "plain http"),
        ("garbage", "not a Vault address"),
        ("", "not one URL"),
        ("https://a.example https://b.example", "not one URL"),
        ("https://user:pw@vault.example.org", "user name or password"),
        ("https://vault.example.org/?x=1", "query"),
        ("ftp://vault.example.org", "not a Vault address"),
    ] {
        let e = check_pinnable(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
    let long = format!("https://{}.example", "a".repeat(3000));
    assert!(check_pinnable(&long).unwrap_err().contains("more than"));
}
