use super::seen_tokens::{classify, expiry};
use super::*;
use crate::spec::AppRoleSpec;
use crate::vault::wrapping::{WrapError, WrapInfo};
use std::time::SystemTime;

#[test]
fn expiry_from_lookup() {
    let info = WrapInfo {
        creation_path: "sys/wrapping/wrap".into(),
        creation_time: "2026-11-22T08:36:25.472862286Z".into(),
        creation_ttl: 2,
    };
    let at = expiry(&info).unwrap();
    assert_eq!(
        humantime::format_rfc3339_seconds(at).to_string(),
        "2026-11-22T08:36:27Z"
    );
}

#[test]
fn a_known_token_past_its_ttl_is_expired_else_used() {
    let old = WrapInfo {
        creation_path: "sys/wrapping/wrap".into(),
        creation_time: "2020-01-01T00:00:00Z".into(),
        creation_ttl: 60,
    };
    let invalid = || WrapError::Invalid {
        message: "x".into(),
    };
    assert!(matches!(
        classify(invalid(), Some(old)),
        BootstrapError::Expired { ttl: 60, .. }
    ));
    let fresh = WrapInfo {
        creation_path: "sys/wrapping/wrap".into(),
        creation_time: humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
        creation_ttl: 3600,
    };
    assert!(matches!(
        classify(invalid(), Some(fresh)),
        BootstrapError::AlreadyUsed
    ));
    assert!(matches!(
        classify(invalid(), None),
        BootstrapError::UsedOrExpired
    ));
}

#[test]
fn token_from_file_then_env() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("tok");
    let a = AppRoleSpec {
        mount: "approle".into(),
        role_id_file: t.path().join("r"),
        secret_id_file: t.path().join("s"),
        wrapped_token_env: Some("VK_TOKEN".into()),
        wrapped_token_file: Some(file.clone()),
        role_name: None,
        login_backoff: Default::default(),
    };
    let env = |k: &str| (k == "VK_TOKEN").then(|| " s.fromenv \n".to_string());
    assert_eq!(read_token(&a, env).unwrap().expose(), "s.fromenv");
    std::fs::write(&file, "s.fromfile\n").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(read_token(&a, env).unwrap().expose(), "s.fromfile");
    // A systemd credential comes first.
    let creds = t.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join(CREDENTIAL), "s.fromcredential\n").unwrap();
    // As systemd leaves it: 0400.
    std::fs::set_permissions(
        creds.join(CREDENTIAL),
        std::os::unix::fs::PermissionsExt::from_mode(0o400),
    )
    .unwrap();
    let creds_env = |k: &str| match k {
        "CREDENTIALS_DIRECTORY" => Some(creds.display().to_string()),
        _ => env(k),
    };
    assert_eq!(
        read_token(&a, creds_env).unwrap().expose(),
        "s.fromcredential"
    );
    std::fs::remove_file(creds.join(CREDENTIAL)).unwrap();
    assert_eq!(read_token(&a, creds_env).unwrap().expose(), "s.fromfile");
    // A FIFO, a symlink or a readable-by-others file is refused, naming the file.
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let e = read_token(&a, env).unwrap_err().to_string();
    assert!(
        e.contains("tok is refused") && e.contains("chmod 600"),
        "{e}"
    );
    std::fs::remove_file(&file).unwrap();
    nix::unistd::mkfifo(&file, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = read_token(&a, env).unwrap_err().to_string();
    assert!(e.contains("a FIFO"), "{e}");
    let none = |_: &str| None;
    std::fs::remove_file(&file).unwrap();
    let e = read_token(&a, none).unwrap_err().to_string();
    assert!(
        e.contains("VK_TOKEN") && e.contains("vaultkeeper provision"),
        "{e}"
    );
}
