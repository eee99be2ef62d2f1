use super::*;
use std::os::unix::fs::PermissionsExt;

const TOKEN: &str = "s.wrappedtokenvalue123";

fn tok() -> Secret {
    Secret::new(TOKEN)
}

#[test]
fn a_token_file_is_emptied_in_place() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("wrapped-token");
    std::fs::write(&f, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&f).unwrap());
    assert_eq!(
        erase(&f, &tok()).unwrap(),
        Erased::Removed { lines_kept: 0 }
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "");
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::ino(&m), ino, "same file");
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
}

#[test]
fn an_environment_file_keeps_every_other_line() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("env");
    let other = "LANG=C.UTF-8\nVAULT_ADDR=https://vault:8200\n# comment\n";
    for line in [
        format!("VAULT_WRAPPED_TOKEN={TOKEN}\n"),
        format!("export VAULT_WRAPPED_TOKEN=\"{TOKEN}\"\n"),
        format!("BAO_WRAPPED_TOKEN='{TOKEN}'\n"),
    ] {
        std::fs::write(
            &f,
            format!("LANG=C.UTF-8\n{line}VAULT_ADDR=https://vault:8200\n# comment\n"),
        )
        .unwrap();
        assert_eq!(
            erase(&f, &tok()).unwrap(),
            Erased::Removed { lines_kept: 3 },
            "{line}"
        );
        let after = std::fs::read_to_string(&f).unwrap();
        assert!(!after.contains(TOKEN), "{after}");
        assert!(
            after.contains("VAULT_ADDR=https://vault:8200\n")
                && after.starts_with("LANG=C.UTF-8\n"),
            "{after}"
        );
    }
    // Written by hand: the file is now exactly the other lines.
    std::fs::write(
        &f,
        format!(
            "LANG=C.UTF-8\nVAULT_WRAPPED_TOKEN={TOKEN}\nVAULT_ADDR=https://vault:8200\n# comment\n"
        ),
    )
    .unwrap();
    erase(&f, &tok()).unwrap();
    assert_eq!(std::fs::read_to_string(&f).unwrap(), other);
}

#[test]
fn a_file_without_the_token_is_untouched_and_a_missing_one_is_fine() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("env");
    std::fs::write(&f, "VAULT_WRAPPED_TOKEN=s.another\n").unwrap();
    assert_eq!(erase(&f, &tok()).unwrap(), Erased::NotThere);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "VAULT_WRAPPED_TOKEN=s.another\n"
    );
    assert_eq!(
        erase(&t.path().join("nope"), &tok()).unwrap(),
        Erased::Missing
    );
}

#[test]
fn a_symlink_is_never_written_through_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    std::fs::write(&target, format!("VAULT_WRAPPED_TOKEN={TOKEN}\n")).unwrap();
    let link = t.path().join("environment");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = erase(&link, &tok()).unwrap_err().to_string();
    assert!(
        e.contains("symbolic link") && e.contains("remove it by hand"),
        "{e}"
    );
    assert!(std::fs::read_to_string(&target).unwrap().contains(TOKEN));
    // A link to a file without the token is simply not ours.
    std::fs::write(&target, "LANG=C\n").unwrap();
    assert_eq!(erase(&link, &tok()).unwrap(), Erased::NotThere);
}

#[test]
fn fifos_and_huge_files_are_refused_without_blocking() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = erase(&fifo, &tok()).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let big = t.path().join("big");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_SIZE + 1).unwrap();
    let e = erase(&big, &tok()).unwrap_err().to_string();
    assert!(e.contains("more than a token file"), "{e}");
}

#[test]
fn erase_all_counts_what_it_could_not_clean() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    std::fs::write(&a, TOKEN).unwrap();
    let target = t.path().join("target");
    std::fs::write(&target, TOKEN).unwrap();
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let files = vec![a.clone(), a.clone(), link, t.path().join("missing")];
    assert_eq!(erase_all(&files, &tok()), 1);
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "");
}
