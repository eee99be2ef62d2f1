//! Unit tests of ingest.rs.

use super::*;

fn hub(budget: usize, queue: usize, spill_limit: u64, dir: &std::path::Path) -> Arc<Hub> {
    Hub::new(
        budget,
        queue,
        0,
        SpillArea {
            dir: dir.to_path_buf(),
            limit: spill_limit,
            used: AtomicU64::new(0),
        },
    )
}

#[test]
fn rounds_are_fair_and_priority_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let h = hub(1 << 20, 1 << 20, 1 << 20, dir.path());
    let flood = h.register("flood".into());
    let vault = h.register("vault".into());
    for i in 0..1000 {
        assert_eq!(h.offer(&flood, &format!("junk{i}"), true), Offer::Queued);
    }
    h.offer(&vault, "ordinary", false);
    h.offer(&vault, "root-token-created", true);
    let mut out = Vec::new();
    h.round(&mut out);
    assert_eq!(out, ["junk0", "root-token-created"]);
    out.clear();
    h.round(&mut out);
    assert_eq!(out, ["junk1"]);
}

#[test]
fn ordinary_lines_beyond_the_fair_share_are_overload_priority_spills() {
    let dir = tempfile::tempdir().unwrap();
    let h = hub(4096, 1024, 1 << 20, dir.path());
    let a = h.register("a".into());
    let b = h.register("b".into());
    let line = "x".repeat(100);
    let mut over = 0;
    for _ in 0..20 {
        if h.offer(&a, &line, false) == Offer::Overload {
            over += 1;
        }
    }
    assert_eq!(over, 10, "the queue holds 1024 bytes");
    // b still gets its fair share (512 bytes) although the queue is full.
    let mut ok = 0;
    for _ in 0..10 {
        if h.offer(&b, &line, false) == Offer::Queued {
            ok += 1;
        }
    }
    assert_eq!(ok, 5);
    // The budget (4096) is nearly used: priority lines spill to disk, in order.
    for i in 0..100 {
        let r = h.offer(&b, &format!("p{i:03}{line}"), true);
        assert!(matches!(r, Offer::Queued | Offer::Spilled), "{r:?}");
    }
    assert!(h.budget.used() <= 4096);
    let mut got = Vec::new();
    loop {
        let mut out = Vec::new();
        h.round(&mut out);
        if out.is_empty() {
            break;
        }
        got.extend(out);
    }
    let prio: Vec<&String> = got.iter().filter(|l| l.starts_with('p')).collect();
    assert_eq!(prio.len(), 100);
    for (i, p) in prio.iter().enumerate() {
        assert!(p.starts_with(&format!("p{i:03}")), "order kept: {p}");
    }
    assert_eq!(got.len(), 100 + 10 + 5);
    assert_eq!(h.budget.used(), 0);
    assert_eq!(h.spill.used.load(Ordering::Relaxed), 0);
}

#[test]
fn a_full_spill_area_loses_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let h = hub(4 << 10, 1024, 1 << 10, dir.path());
    let a = h.register("a".into());
    let line = "y".repeat(200);
    let rs: Vec<Offer> = (0..40).map(|_| h.offer(&a, &line, true)).collect();
    assert!(rs.contains(&Offer::Spilled));
    assert_eq!(
        rs.iter().filter(|r| **r == Offer::Lost).count(),
        40 - 20 - 5
    );
}

#[test]
fn eviction_picks_silent_junk_and_spares_the_servers_connection() {
    let dir = tempfile::tempdir().unwrap();
    let h = hub(1 << 20, 1 << 20, 1 << 20, dir.path());
    let vault = h.register("vault".into());
    h.offer(&vault, "a line", false);
    vault.last_read_ms.store(0, Ordering::Relaxed);
    let a = h.register("a".into());
    let b = h.register("b".into());
    a.last_read_ms.store(5, Ordering::Relaxed);
    b.last_read_ms.store(0, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(30));
    // vault is the most silent, but it sent lines: junk goes first.
    assert!(h.evict_most_silent(1, 60_000));
    assert!(b.evicted.load(Ordering::Relaxed));
    assert!(h.evict_most_silent(1, 60_000));
    assert!(a.evicted.load(Ordering::Relaxed));
    assert!(
        !h.evict_most_silent(1, 60_000),
        "the server's connection stays"
    );
    assert!(!vault.evicted.load(Ordering::Relaxed));
    // ... unless it has been silent for the long delay.
    assert!(h.evict_most_silent(1, 10));
    assert!(vault.evicted.load(Ordering::Relaxed));
}
