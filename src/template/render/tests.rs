use super::*;
use crate::spec::Spec;
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn me() -> (String, String) {
    (
        nix::unistd::getuid().as_raw().to_string(),
        nix::unistd::getgid().as_raw().to_string(),
    )
}

fn template(root: &Path, t: serde_json::Value) -> (TemplateSpec, PathBuf) {
    let (u, g) = me();
    let mut t = t;
    t["owner"] = json!(u);
    t["group"] = json!(g);
    t["path"] = json!(root.join("out/rendered/t"));
    let spec = Spec::from_json(
        "t",
        &json!({
            "vault": {"address": "http://127.0.0.1:8200"},
            "stateDir": root.join("state"),
            "secrets": {
                "db": {"secretPath": "a", "outputDir": root.join("out/db")},
                "api": {"secretPath": "b", "outputDir": root.join("out/api")}
            },
            "templates": { "t": t }
        })
        .to_string(),
    )
    .unwrap();
    (spec.templates["t"].clone(), root.join("state"))
}

fn data(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, SecretData> {
    pairs
        .iter()
        .map(|(n, v)| {
            let m = v.as_object().unwrap().clone().into_iter().collect();
            (n.to_string(), SecretData(m))
        })
        .collect()
}

#[test]
fn content_and_env_files_are_built_from_the_data() {
    let root = tempfile::tempdir().unwrap();
    let (t, _) = template(
        root.path(),
        json!({"content": "url=postgres://{{ db.user }}:{{db.pass}}@{{ api.host }}:{{ db.port }}/\n"}),
    );
    let d = data(&[
        (
            "db",
            json!({"user": "u", "pass": "p{{ db.user }}", "port": 5432}),
        ),
        ("api", json!({"host": "h"})),
    ]);
    assert_eq!(
        build(&t, &d).unwrap(),
        b"url=postgres://u:p{{ db.user }}@h:5432/\n"
    );
    let d2 = data(&[("db", json!({"user": "u"})), ("api", json!({}))]);
    let errs = build(&t, &d2).unwrap_err();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs[0].contains("{{ db.pass }}: secret db has no key \"pass\" (its keys: \"user\")"),
        "{errs:?}"
    );
    assert!(
        errs[1].contains("secret api has no key \"host\" (its keys: none)"),
        "{errs:?}"
    );

    let (t, _) = template(root.path(), json!({"envFrom": ["db", "api"]}));
    let d = data(&[
        ("db", json!({"USER": "u", "PASS": "a \"b\" $c"})),
        ("api", json!({"TOKEN": "t"})),
    ]);
    assert_eq!(
        build(&t, &d).unwrap(),
        b"PASS=\"a \\\"b\\\" \\$c\"\nUSER=\"u\"\nTOKEN=\"t\"\n"
    );
    let d = data(&[("db", json!({"bad-name": "x"})), ("api", json!({}))]);
    let errs = build(&t, &d).unwrap_err();
    assert!(
        errs[0].contains("secret db: key \"bad-name\" is not a valid environment variable name"),
        "{errs:?}"
    );
}

#[test]
fn writes_atomically_leaves_unchanged_files_alone_and_never_follows_symlinks() {
    let root = tempfile::tempdir().unwrap();
    let (t, state) = template(root.path(), json!({"envFrom": ["db"], "mode": "0440"}));
    assert_eq!(write(&t, &state, b"A=\"1\"\n").unwrap(), Written::Changed);
    let m = std::fs::metadata(&t.path).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o440);
    let dir = std::fs::metadata(t.path.parent().unwrap()).unwrap();
    assert_eq!(dir.mode() & 0o7777, 0o751);
    let ino = m.ino();
    assert_eq!(write(&t, &state, b"A=\"1\"\n").unwrap(), Written::Unchanged);
    assert_eq!(std::fs::metadata(&t.path).unwrap().ino(), ino);
    assert_eq!(write(&t, &state, b"A=\"2\"\n").unwrap(), Written::Changed);
    assert_eq!(std::fs::read(&t.path).unwrap(), b"A=\"2\"\n");
    // A mode changed by someone else is restored.
    std::fs::set_permissions(&t.path, std::fs::Permissions::from_mode(0o444)).unwrap();
    assert_eq!(write(&t, &state, b"A=\"2\"\n").unwrap(), Written::Changed);
    assert_eq!(std::fs::metadata(&t.path).unwrap().mode() & 0o7777, 0o440);

    // A symlink planted at our path is replaced; its target is untouched.
    let victim = root.path().join("victim");
    std::fs::write(&victim, "original").unwrap();
    std::fs::remove_file(&t.path).unwrap();
    std::os::unix::fs::symlink(&victim, &t.path).unwrap();
    assert_eq!(write(&t, &state, b"A=\"3\"\n").unwrap(), Written::Changed);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");
    assert!(std::fs::symlink_metadata(&t.path).unwrap().is_file());
    // Only the rendered file is in the directory: no temporary left over.
    let names: Vec<_> = std::fs::read_dir(t.path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["t"]);
}

#[test]
fn what_vaultkeeper_did_not_write_is_never_overwritten() {
    let root = tempfile::tempdir().unwrap();
    let (t, state) = template(root.path(), json!({"envFrom": ["db"]}));
    std::fs::create_dir_all(t.path.parent().unwrap()).unwrap();
    std::fs::write(&t.path, "someone else's").unwrap();
    let e = write(&t, &state, b"x").unwrap_err().to_string();
    assert!(
        e.contains("is a file that vaultkeeper did not write"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&t.path).unwrap(), "someone else's");
    std::fs::remove_file(&t.path).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &t.path).unwrap();
    let e = write(&t, &state, b"x").unwrap_err().to_string();
    assert!(
        e.contains("is a symlink that vaultkeeper did not write"),
        "{e}"
    );
    std::fs::remove_file(&t.path).unwrap();
    std::fs::create_dir(&t.path).unwrap();
    std::fs::write(t.path.join("keep"), "k").unwrap();
    let e = write(&t, &state, b"x").unwrap_err().to_string();
    assert!(e.contains("is a directory; remove it"), "{e}");
    assert_eq!(std::fs::read_to_string(t.path.join("keep")).unwrap(), "k");
    std::fs::remove_dir_all(&t.path).unwrap();
    nix::unistd::mkfifo(&t.path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = write(&t, &state, b"x").unwrap_err().to_string();
    assert!(e.contains("is a FIFO"), "{e}");
}

#[test]
fn a_symlinked_parent_is_refused_and_crash_debris_is_removed() {
    let root = tempfile::tempdir().unwrap();
    let (t, state) = template(root.path(), json!({"envFrom": ["db"]}));
    let parent = t.path.parent().unwrap();
    std::fs::create_dir_all(root.path().join("elsewhere")).unwrap();
    // A link to a directory that is not root's is never followed (when the
    // tests run as root, the target is handed to nobody).
    if nix::unistd::geteuid().is_root() {
        nix::unistd::chown(
            &root.path().join("elsewhere"),
            Some(nix::unistd::Uid::from_raw(65534)),
            None,
        )
        .unwrap();
    }
    std::fs::create_dir_all(parent.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(root.path().join("elsewhere"), parent).unwrap();
    let e = write(&t, &state, b"x").unwrap_err().to_string();
    assert!(e.contains("[rule: symlinked-parent]"), "{e}");
    assert_eq!(
        std::fs::read_dir(root.path().join("elsewhere"))
            .unwrap()
            .count(),
        0
    );
    std::fs::remove_file(parent).unwrap();

    std::fs::create_dir_all(parent).unwrap();
    let old = parent.join(".t.vaultkeeper-00000000000000aa");
    let fresh = parent.join(".t.vaultkeeper-00000000000000bb");
    let foreign = parent.join(".t.vaultkeeper-notours");
    for f in [&old, &fresh, &foreign] {
        std::fs::write(f, "debris").unwrap();
    }
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    write(&t, &state, b"x").unwrap();
    assert!(!old.exists());
    assert!(fresh.exists() && foreign.exists());
}
