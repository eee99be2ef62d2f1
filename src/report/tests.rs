use super::*;
use crate::exit;
use std::error::Error;

#[test]
fn vault_lists_are_flattened() {
    assert_eq!(
        vault_message("1 error occurred:\n\t* permission denied\n\n"),
        "permission denied"
    );
    assert_eq!(
        vault_message("2 errors occurred:\n\t* a\n\t* b\n\n"),
        "a; b"
    );
    assert_eq!(vault_message("plain\nwrapped  text"), "plain wrapped text");
    assert_eq!(vault_message("* not a list"), "* not a list");
    assert_eq!(
        vault_message("Vault denied x: 1 error occurred:\n\t* permission denied\n\n"),
        "Vault denied x: permission denied"
    );
}

#[test]
fn the_os_error_is_said_once_and_the_fix_comes_last() {
    let io = std::io::Error::from_raw_os_error(2);
    let spec = crate::spec::SpecError::Read {
        path: "/x.json".into(),
        source: io,
    };
    let m = message(&spec);
    assert_eq!(m.matches("os error 2").count(), 1, "{m}");

    let f = Failure::usage(
        "cannot open audit log /nope",
        "give a file audit device's log",
    )
    .caused_by(std::io::Error::from_raw_os_error(2));
    let m = message(&f);
    assert_eq!(
        m,
        "cannot open audit log /nope: No such file or directory (os error 2); give a file audit device's log"
    );
    assert_eq!(exit_code(&f), exit::USAGE);
}

#[test]
fn codes_come_from_the_first_error_that_knows_one() {
    let denied = crate::vault::VaultError::PermissionDenied {
        path: "sys/policy/x".into(),
        message: "1 error occurred:\n\t* permission denied\n\n".into(),
    };
    let wrapped = anyhow::Error::new(denied).context("provisioning host web01 failed");
    let e: &(dyn Error + 'static) = wrapped.as_ref();
    assert_eq!(exit_code(e), exit::DENIED);
    assert_eq!(
        message(e),
        "provisioning host web01 failed: Vault denied sys/policy/x: permission denied"
    );
    let bug = anyhow::anyhow!("something nobody classified");
    assert_eq!(exit_code(bug.as_ref()), exit::INTERNAL);
}
