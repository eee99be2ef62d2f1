//! A reader polling while 1,000 generations are published never sees a partial
//! file or a mix of two versions of one secret.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vaultkeeper::SecretData;
use vaultkeeper::{render, Rendered};
use vaultkeeper::{KvVersion, OnChange, SecretSpec};

const UPDATES: usize = 1000;
const KEYS: [&str; 3] = ["cert", "key", "chain"];

fn spec(root: &Path) -> SecretSpec {
    SecretSpec {
        name: "tls".into(),
        secret_path: "hosts/x/tls".into(),
        kv_mount: "secret".into(),
        kv_version: KvVersion::V2,
        output_dir: root.join("secrets/tls"),
        cache_dir: root.join("cache/tls"),
        owner: "root".into(),
        group: "root".into(),
        mode: 0o400,
        services: vec![],
        restart_trigger: false,
        restart_interval: Duration::from_secs(86400),
        refresh_interval: Duration::from_secs(300),
        boot_cache_max_age: Duration::from_secs(900),
        on_change: OnChange::Restart,
        restart_randomized_delay: Duration::ZERO,
    }
}

/// Generation `i`: every key holds `i` repeated, a different length each time,
/// so a torn or partial file cannot look whole.
fn value(i: usize, key: &str) -> String {
    let unit = format!("{key}:{i:06};");
    unit.repeat(200 + (i * 37) % 1500)
}

fn data(i: usize) -> SecretData {
    SecretData(
        KEYS.iter()
            .map(|k| (k.to_string(), json!(value(i, k))))
            .collect(),
    )
}

/// Reads the whole secret the way a careful consumer does: resolve the
/// directory once, then read each file relative to it.
fn read_set(dir: &Path) -> Option<Vec<String>> {
    let d = nix::fcntl::open(dir, OFlag::O_DIRECTORY | OFlag::O_RDONLY, Mode::empty()).ok()?;
    let mut out = Vec::new();
    for k in KEYS {
        let fd = openat(&d, k, OFlag::O_RDONLY, Mode::empty()).ok()?;
        let mut s = String::new();
        std::fs::File::from(fd).read_to_string(&mut s).ok()?;
        out.push(s);
    }
    Some(out)
}

#[test]
fn readers_never_see_partial_or_mixed_generations() {
    let t = tempfile::tempdir().unwrap();
    let s = spec(t.path());
    render(&s, &data(0)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (dir, done, reads, retries) = (
                s.output_dir.clone(),
                done.clone(),
                reads.clone(),
                retries.clone(),
            );
            std::thread::spawn(move || {
                let mut last = 0usize;
                while !done.load(Ordering::Relaxed) {
                    let Some(set) = read_set(&dir) else {
                        // The generation we resolved was pruned under us: look again.
                        retries.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    let i: usize = set[0][5..11]
                        .parse()
                        .expect("cert starts with its generation");
                    for (k, v) in KEYS.iter().zip(&set) {
                        assert_eq!(
                            v,
                            &value(i, k),
                            "key {k} of generation {i} is partial or from another generation"
                        );
                    }
                    assert!(i >= last, "went back from generation {last} to {i}");
                    last = i;
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for i in 1..=UPDATES {
        assert!(matches!(
            render(&s, &data(i)).unwrap(),
            Rendered::Changed { .. }
        ));
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("a reader saw an inconsistent set");
    }
    let n = reads.load(Ordering::Relaxed);
    eprintln!(
        "{UPDATES} updates, {n} consistent reads, {} retries after pruning",
        retries.load(Ordering::Relaxed)
    );
    assert!(n > 100, "the readers barely ran ({n} reads)");
    assert_eq!(read_set(&s.output_dir).unwrap()[1], value(UPDATES, "key"));
}
