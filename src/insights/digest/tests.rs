use super::*;

fn server(sealed: bool) -> Server {
    Server {
        address: "https://vault.example:8200".into(),
        initialized: true,
        sealed,
        version: Some("2.7.2".into()),
        build_date: None,
        cluster_name: Some("c1".into()),
        storage_type: Some("raft".into()),
        ha_enabled: Some(true),
        is_leader: Some(true),
        leader_address: None,
    }
}

#[test]
fn seal_changes_are_reported_once_per_transition() {
    let mut w = SealWatch::default();
    assert_eq!(w.observe(false), None);
    assert_eq!(w.observe(true), Some(SealChange::Sealed));
    assert_eq!(w.observe(true), None);
    assert!(matches!(
        w.observe(false),
        Some(SealChange::Unsealed {
            sealed_for: Some(_)
        })
    ));
    assert_eq!(w.observe(false), None);
    assert_eq!(w.observe(true), Some(SealChange::Sealed));
    // Sealed at the first look: alert too; unsealed at the first look: nothing.
    assert_eq!(SealWatch::default().observe(true), Some(SealChange::Sealed));
    assert_eq!(SealWatch::default().observe(false), None);
    let a = sealed_alert_payload(&server(true), "h");
    assert!(a["text"]
        .as_str()
        .unwrap()
        .contains("Vault at https://vault.example:8200 is SEALED (seen from h)"));
    let u = unsealed_payload(&server(false), "h", Some(Duration::from_secs(125)));
    assert_eq!(
            u["text"],
            ":large_green_circle: Vault at https://vault.example:8200 is unsealed again (seen from h) after 2m 5s"
        );
}

#[test]
fn digest_shows_score_change_updates_and_leases() {
    let status = Status {
        server: server(false),
        audit_devices: Some(vec![]),
        audit_warning: Some("NO AUDIT DEVICE".into()),
        auth_methods: Some(2),
        secrets_engines: Some(3),
        token: None,
        secrets: vec![],
        addresses: vec![],
        not_assessed: Default::default(),
    };
    let f = posture::Finding::new("audit_devices", "At least one audit device", 15).scored(
        0,
        vec![],
        "fix",
    );
    let p = posture::score(
        vec![
            f,
            posture::Finding::new("x", "X", 85).scored(85, vec![], ""),
        ],
        "a".into(),
    );
    let v = VersionReport {
        server_version: "2.7.2".into(),
        feed: "F".into(),
        latest_version: Some("2.8.1".into()),
        latest_published_at: None,
        update_available: true,
        versions_behind: 2,
        days_behind: Some(71),
        newer: vec![],
    };
    let payload = digest_payload(&DigestInput {
        host: "web01",
        status: &status,
        posture: Some(&p),
        previous_score: Some(80),
        version: Ok(&v),
        leases_headline: Some("3 leases"),
    });
    let text: Vec<String> = payload["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text[0], "Vault digest for web01");
    assert!(
        text.contains(&":warning: *NO AUDIT DEVICE*".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(
            &"*Posture* 85/100 (+5 since the last digest)\n• At least one audit device (−15)"
                .to_string()
        ),
        "{text:?}"
    );
    assert!(text
        .contains(&"*Updates* 2.7.2 → 2.8.1 available (2 release(s), 71 days behind)".to_string()));
    assert!(text.contains(&"*Leases* 3 leases".to_string()));
    assert_eq!(
        payload["text"],
        "Vault digest for web01: unsealed, posture 85/100 (+5 since the last digest)"
    );
    assert_eq!(score_line(70, None), "70/100 (first digest)");
    assert_eq!(
        score_line(70, Some(75)),
        "70/100 (-5 since the last digest)"
    );
}

#[test]
fn last_digest_round_trips_and_schedules() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load_last(dir.path()), LastDigest::default());
    save_last(
        dir.path(),
        &LastDigest {
            score: Some(64),
            sent_at: Some(100),
        },
    )
    .unwrap();
    assert_eq!(load_last(dir.path()).score, Some(64));
    assert!(digest_due(None, 0, Duration::from_secs(60)));
    assert!(!digest_due(Some(100), 159, Duration::from_secs(60)));
    assert!(digest_due(Some(100), 160, Duration::from_secs(60)));
}
