use super::*;

#[test]
fn buckets_and_mounts() {
    assert_eq!(bucket(Some(59)), "<1h");
    assert_eq!(bucket(Some(3600)), "1h-24h");
    assert_eq!(bucket(Some(86400)), "1d-7d");
    assert_eq!(bucket(Some(7 * 86400)), "7d-30d");
    assert_eq!(bucket(Some(31 * 86400)), ">30d");
    assert_eq!(bucket(None), "no expiry");
    let mounts = vec![
        "auth/token/".to_string(),
        "database/".into(),
        "database/prod/".into(),
    ];
    assert_eq!(
        mount_of("database/prod/creds/app/abc", &mounts),
        "database/prod/"
    );
    assert_eq!(mount_of("database/creds/app/abc", &mounts), "database/");
    assert_eq!(mount_of("auth/approle/login/abc", &mounts), "auth/approle/");
    assert_eq!(mount_of("pki/issue/x/abc", &[]), "pki/");
}
