use super::*;

fn addrs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("http://n{i}:8200")).collect()
}

#[test]
fn the_order_is_a_stable_rotation_that_spreads_a_fleet() {
    let a = addrs(3);
    // A rotation of the list, the same every time for a host.
    for h in ["web01", "db-7", ""] {
        let o = host_order(&a, h);
        assert_eq!(o, host_order(&a, h));
        let k = a.iter().position(|x| *x == o[0]).unwrap();
        let mut r = a.clone();
        r.rotate_left(k);
        assert_eq!(o, r, "{h}: not a rotation");
    }
    // Pinned (computed independently with Python's hashlib): a change of
    // hash would move every host of a fleet to another node at once.
    let first: Vec<usize> = ["web01", "web02", "web03", "db01"]
        .iter()
        .map(|h| a.iter().position(|x| *x == host_order(&a, h)[0]).unwrap())
        .collect();
    assert_eq!(first, vec![2, 0, 1, 0]);
    // 3,000 hosts over 3 nodes: each node is preferred by about a third.
    let mut count = [0usize; 3];
    for i in 0..3000 {
        let o = host_order(&a, &format!("host-{i:04}"));
        count[a.iter().position(|x| *x == o[0]).unwrap()] += 1;
    }
    for c in count {
        assert!((850..=1150).contains(&c), "{count:?}");
    }
    // One address: itself; none: none.
    assert_eq!(host_order(&addrs(1), "x"), addrs(1));
    assert!(host_order(&[], "x").is_empty());
}

#[test]
fn only_no_answer_5xx_429_and_503_fail_over() {
    for o in [
        Outcome::ConnectionError,
        Outcome::Timeout,
        Outcome::ServerError,
        Outcome::Unavailable,
        Outcome::RateLimited,
    ] {
        assert!(fails_over(o), "{o:?}");
    }
    for o in [Outcome::Success, Outcome::ClientError, Outcome::Redirect] {
        assert!(!fails_over(o), "{o:?}");
    }
}

#[test]
fn the_failback_time_is_the_specs_vault_failback() {
    let spec = crate::spec::Spec::from_json(
        "spec.json",
        r#"{"vault":{"address":["http://fbs0:8200","http://fbs1:8200"],"failback":"90s"}}"#,
    )
    .unwrap();
    let client = crate::vault::VaultClient::new(&spec.vault).unwrap();
    let e = client.endpoints();
    let t0 = Instant::now();
    let (p, q) = (e.plan_at(t0)[0], e.plan_at(t0)[1]);
    e.record_at(p, Outcome::ConnectionError, Some("refused"), t0);
    e.record_at(q, Outcome::Success, None, t0);
    assert_eq!(e.plan_at(t0 + Duration::from_secs(89))[0], q);
    assert_eq!(e.plan_at(t0 + Duration::from_secs(90))[0], p);
    // The default: ten minutes.
    let spec = crate::spec::Spec::from_json(
        "spec.json",
        r#"{"vault":{"address":["http://fbd0:8200","http://fbd1:8200"]}}"#,
    )
    .unwrap();
    let client = crate::vault::VaultClient::new(&spec.vault).unwrap();
    let e = client.endpoints();
    let (p, q) = (e.plan_at(t0)[0], e.plan_at(t0)[1]);
    e.record_at(p, Outcome::ConnectionError, Some("refused"), t0);
    e.record_at(q, Outcome::Success, None, t0);
    assert_eq!(e.plan_at(t0 + Duration::from_secs(599))[0], q);
    assert_eq!(e.plan_at(t0 + Duration::from_secs(600))[0], p);
}

#[test]
fn remembers_the_address_that_answered_and_fails_back_later() {
    // Addresses of their own: the metrics registry is process-wide.
    let list: Vec<String> = (0..3).map(|i| format!("http://fb{i}:8200")).collect();
    let e = Endpoints::with_failback(&list, "h", Duration::from_secs(60));
    let t0 = Instant::now();
    assert_eq!(e.plan_at(t0), vec![0, 1, 2]);
    e.record_at(0, Outcome::ConnectionError, Some("refused"), t0);
    e.record_at(1, Outcome::Unavailable, Some("sealed"), t0);
    e.record_at(2, Outcome::Success, None, t0);
    // The one that answered leads; the others follow in host order.
    assert_eq!(e.plan_at(t0), vec![2, 0, 1]);
    assert_eq!(&*e.current(), &*e.order()[2]);
    let snap = e.snapshot();
    assert!(snap[0].preferred && !snap[0].in_use);
    assert_eq!(snap[0].last_outcome.as_deref(), Some("connection_error"));
    assert_eq!(snap[0].last_error.as_deref(), Some("refused"));
    assert_eq!(snap[1].last_outcome.as_deref(), Some("unavailable"));
    assert!(snap[2].in_use && snap[2].last_error.is_none() && snap[2].last_ok_at.is_some());
    // A 404 is an answer: it does not move anything.
    e.record_at(2, Outcome::ClientError, None, t0);
    assert_eq!(e.plan_at(t0 + Duration::from_secs(59)), vec![2, 0, 1]);
    // After the failback time the preferred address leads again ...
    assert_eq!(e.plan_at(t0 + Duration::from_secs(60)), vec![0, 1, 2]);
    assert!(e.snapshot()[0].in_use);
    // ... and when it is still down, the request moves on and the clock restarts.
    let t1 = t0 + Duration::from_secs(61);
    e.record_at(0, Outcome::Timeout, Some("timed out"), t1);
    e.record_at(1, Outcome::Success, None, t1);
    assert_eq!(e.plan_at(t1 + Duration::from_secs(30)), vec![1, 2, 0]);
    assert_eq!(e.plan_at(t1 + Duration::from_secs(60)), vec![0, 1, 2]);
    // Back on the preferred address there is nothing to fail back from.
    e.record_at(0, Outcome::Success, None, t1 + Duration::from_secs(60));
    assert_eq!(e.plan_at(t1 + Duration::from_secs(9999)), vec![0, 1, 2]);
    assert!(e.snapshot()[0].last_error.is_none());
    // Every attempt is counted by address and outcome.
    let text = crate::metrics::global().encode(0);
    let count = |addr: &str, outcome: &str| {
        let line = format!(
            "vaultkeeper_vault_requests_total{{address=\"{addr}\",outcome=\"{outcome}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(line.as_str()))
            .map_or(0, |n| n.parse::<u64>().unwrap())
    };
    let o = e.order();
    assert_eq!(count(&o[0], "connection_error"), 1, "{text}");
    assert_eq!(count(&o[0], "timeout"), 1);
    assert_eq!(count(&o[0], "success"), 1);
    assert_eq!(count(&o[1], "unavailable"), 1);
    assert_eq!(count(&o[1], "success"), 1);
    assert_eq!(count(&o[2], "success"), 1);
    assert_eq!(count(&o[2], "client_error"), 1);
}

#[test]
fn the_record_is_merged_newest_first_and_a_hostile_record_is_ignored() {
    let d = tempfile::tempdir().unwrap();
    let st = |a: &str, at: Option<u64>, out: &str| AddressState {
        address: a.into(),
        last_at: at,
        last_ok_at: at.filter(|_| out == "success"),
        last_outcome: at.map(|_| out.to_string()),
        ..AddressState::default()
    };
    let agent = vec![
        st("http://a:1", Some(100), "connection_error"),
        st("http://b:1", Some(100), "success"),
        st("http://gone:1", Some(100), "success"),
    ];
    save(d.path(), &agent);
    assert_eq!(load(d.path()), agent);
    let mut mine = vec![
        st("http://a:1", Some(200), "success"),
        st("http://b:1", None, ""),
    ];
    mine[0].in_use = true;
    mine[0].preferred = true;
    let m = merged(&mine, &load(d.path()));
    assert_eq!(m.len(), 2, "an address no longer listed is dropped");
    assert_eq!(m[0].last_outcome.as_deref(), Some("success"));
    assert!(m[0].in_use && m[0].preferred);
    assert_eq!(m[1].last_outcome.as_deref(), Some("success"));
    assert_eq!(m[1].last_ok_at, Some(100));
    assert!(!m[1].in_use);
    // A symlink in its place is not followed; garbage and huge files are ignored.
    let f = d.path().join(RECORD_FILE);
    std::fs::remove_file(&f).unwrap();
    let target = d.path().join("elsewhere");
    std::fs::write(&target, serde_json::to_vec(&agent).unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &f).unwrap();
    assert!(load(d.path()).is_empty());
    std::fs::remove_file(&f).unwrap();
    std::fs::write(&f, b"{not json").unwrap();
    assert!(load(d.path()).is_empty());
    std::fs::write(&f, vec![b' '; 70 * 1024]).unwrap();
    assert!(load(d.path()).is_empty());
}
