use super::*;
use crate::spec::Spec;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

fn secrets(root: &std::path::Path) -> Spec {
    let text = json!({
        "vault": {"address": "http://127.0.0.1:1"},
        "stateDir": root,
        "secrets": {"a": {"secretPath": "x/a"}, "b": {"secretPath": "x/b"}},
    });
    Spec::from_json("t", &text.to_string()).unwrap()
}

fn kv(v: &str) -> KvSecret {
    KvSecret {
        data: SecretData([("k".to_string(), json!(v))].into_iter().collect()),
        version: Some(3),
    }
}

#[test]
fn staged_caches_appear_only_on_commit() {
    let t = tempfile::tempdir().unwrap();
    let spec = secrets(t.path());
    let (a, b) = (&spec.secrets["a"], &spec.secrets["b"]);
    store(a, &kv("old"), SystemTime::now()).unwrap();
    let staged = vec![
        stage(a, &kv("new-a"), SystemTime::now()).unwrap(),
        stage(b, &kv("new-b"), SystemTime::now()).unwrap(),
    ];
    // Not visible yet: the old data is still what an outage would render.
    assert_eq!(load(a).unwrap().unwrap().data.0["k"], json!("old"));
    assert!(load(b).unwrap().is_none());
    assert!(commit(staged).is_empty());
    assert_eq!(load(a).unwrap().unwrap().data.0["k"], json!("new-a"));
    let entry = load(b).unwrap().unwrap();
    assert_eq!(
        (entry.data.0["k"].clone(), entry.version),
        (json!("new-b"), Some(3))
    );
    for dir in [&a.cache_dir, &b.cache_dir] {
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("data.json")],
            "no temporary left in {dir:?}"
        );
        assert_eq!(
            std::fs::metadata(dir.join("data.json"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o600
        );
    }
}

#[test]
fn a_cache_of_another_path_is_not_used() {
    let t = tempfile::tempdir().unwrap();
    let spec = secrets(t.path());
    store(&spec.secrets["a"], &kv("v"), SystemTime::now()).unwrap();
    let mut moved = spec.secrets["a"].clone();
    moved.secret_path = "y/a".into();
    assert!(matches!(load(&moved), Err(CacheError::OtherPath { .. })));
}
