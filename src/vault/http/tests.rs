use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn redirects_only_to_configured_origins() {
    let p = Policy::new(
        [
            "https://vault-a:8200",
            "http://vault-b:8200",
            "https://vault-c",
        ],
        1,
    );
    let from = url("https://vault-a:8200/v1/secret/data/x");
    // same origin, relative or absolute
    assert_eq!(
        p.follow(&from, "/v1/other").unwrap().as_str(),
        "https://vault-a:8200/v1/other"
    );
    assert!(p.follow(&from, "https://vault-c:443/v1/x").is_ok());
    // an origin not listed
    let e = p.follow(&from, "https://evil:8200/v1/x").unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("https://vault-a:8200") && m.contains("https://evil:8200"),
        "{m}"
    );
    // the listed host on another port is another origin
    assert!(p.follow(&from, "https://vault-a:8201/v1/x").is_err());
    // never https → http, even to a listed http origin
    let m = p
        .follow(&from, "http://vault-b:8200/v1/x")
        .unwrap_err()
        .to_string();
    assert!(m.contains("downgrade"), "{m}");
    // http → https upgrade of a listed http origin is fine, http → listed http too
    let from_b = url("http://vault-b:8200/v1/x");
    assert!(p.follow(&from_b, "https://vault-b:8200/v1/x").is_ok());
    assert!(p.follow(&from_b, "http://vault-b:8200/v1/y").is_ok());
    // and http → a listed https origin
    assert!(p.follow(&from_b, "https://vault-a:8200/v1/y").is_ok());
    // other schemes, garbage
    assert!(p.follow(&from, "file:///etc/passwd").is_err());
    assert!(p.follow(&from, "http://[::1").is_err());
    // user-info does not smuggle another host past the check
    assert!(p.follow(&from, "https://vault-a:8200@evil/v1/x").is_err());
}

#[test]
fn ca_bundles_are_checked() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("ca.pem");
    std::fs::write(&f, "garbage\n").unwrap();
    assert!(load_ca_bundle(&f)
        .unwrap_err()
        .contains("no PEM certificate"));
    std::fs::write(
        &f,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    assert!(load_ca_bundle(&f).unwrap_err().contains("not valid X.509"));
    std::fs::write(
        &f,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    assert!(load_ca_bundle(&f).unwrap_err().contains("PRIVATE KEY"));
    assert!(load_ca_bundle(d.path())
        .unwrap_err()
        .contains("regular file"));
    assert!(load_ca_bundle(&d.path().join("none"))
        .unwrap_err()
        .contains("cannot read"));
}
