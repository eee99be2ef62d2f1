//! Unit tests of connection.rs.

use super::*;
use crate::audit::ingest::Hub;
use crate::audit::peer::PeerPolicy;
use crate::audit::prefilter::Prefilter;
use crate::audit::sink::Sink;
use crate::audit::spill::SpillArea;
use crate::audit::stats::ReaderCounters;
use std::sync::atomic::AtomicU64;

fn sink(queue_bytes: usize, budget: usize, dir: &std::path::Path) -> Sink {
    Sink {
        hub: Hub::new(
            budget,
            queue_bytes,
            64 * (FREE_PARTIAL + READ_BUF),
            SpillArea {
                dir: dir.to_path_buf(),
                limit: 1 << 30,
                used: AtomicU64::new(0),
            },
        ),
        prefilter: Arc::new(Prefilter::new([])),
        counters: Arc::new(ReaderCounters::default()),
        policy: Arc::new(PeerPolicy::resolve(&[], &[]).unwrap()),
        max_connections: 64,
        idle_timeout: Duration::from_secs(300),
        logs: Arc::default(),
    }
}

fn lines(n: usize, path: &str) -> Vec<u8> {
    (0..n)
        .map(|i| {
            format!(
                "{{\"type\":\"request\",\"request\":{{\"id\":\"r{i}\",\"path\":\"{path}\"}}}}\n"
            )
        })
        .collect::<String>()
        .into_bytes()
}

async fn read_all(s: &Sink, bytes: Vec<u8>) {
    let shutdown = CancellationToken::new();
    let conn = s.hub.register("test".into());
    tokio::time::timeout(
        Duration::from_secs(5),
        read_connection(
            Box::new(std::io::Cursor::new(bytes)),
            conn,
            s.clone(),
            shutdown,
        ),
    )
    .await
    .expect("the reader waited on full lanes");
}

fn drain(s: &Sink) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let mut out = Vec::new();
        s.hub.round(&mut out);
        if out.is_empty() {
            return all;
        }
        all.extend(out);
    }
}

#[tokio::test]
async fn full_lanes_count_ordinary_lines_as_overload_and_reading_never_waits() {
    let dir = tempfile::tempdir().unwrap();
    let line_len = lines(1, "secret/data/a").len() - 1;
    let s = sink(10 * line_len, 8 << 20, dir.path());
    // Nobody drains the lanes: the reader must still finish at once.
    read_all(&s, lines(1000, "secret/data/a")).await;
    let c = &s.counters;
    assert_eq!(c.lines.load(Ordering::Relaxed), 1000);
    assert_eq!(c.overload.load(Ordering::Relaxed), 990);
    assert_eq!(c.open_connections.load(Ordering::Relaxed), 0);
    let got = drain(&s);
    assert_eq!(got.len(), 10);
    assert!(got[0].contains("\"r0\"") && got[9].contains("\"r9\""));
    assert_eq!(s.hub.budget.used(), 0);
}

#[tokio::test]
async fn security_relevant_lines_are_never_dropped_they_spill() {
    let dir = tempfile::tempdir().unwrap();
    // Queued lines have used what they may of the budget but 1000 bytes
    // (the reserve for reading stays free).
    let s = sink(1 << 20, 16 << 20, dir.path());
    assert!(s.hub.budget.try_take(s.hub.queued_cap() - 1000));
    read_all(&s, lines(5000, "sys/policies/acl/p")).await;
    let c = &s.counters;
    assert_eq!(c.overload.load(Ordering::Relaxed), 0);
    assert_eq!(c.priority_lost.load(Ordering::Relaxed), 0);
    assert!(c.spilled.load(Ordering::Relaxed) >= 4900);
    let got = drain(&s);
    assert_eq!(got.len(), 5000);
    for (i, l) in got.iter().enumerate() {
        assert!(l.contains(&format!("\"r{i}\"")), "in order: {l}");
    }
}

#[tokio::test]
async fn partial_lines_beyond_the_allowance_are_charged_and_abandoned_when_over_budget() {
    let dir = tempfile::tempdir().unwrap();
    let s = sink(1 << 20, 16 << 20, dir.path());
    let taken = s.hub.queued_cap() - (200 << 10);
    assert!(s.hub.budget.try_take(taken));
    let mut big = vec![b'x'; 900 << 10];
    big.extend_from_slice(b"\n");
    big.extend_from_slice(&lines(1, "sys/seal"));
    read_all(&s, big).await;
    assert_eq!(s.counters.over_budget.load(Ordering::Relaxed), 1);
    assert_eq!(drain(&s).len(), 1, "the next line still gets through");
    assert_eq!(s.hub.budget.used(), taken, "all given back");
}
