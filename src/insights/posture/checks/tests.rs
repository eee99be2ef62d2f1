use super::*;

fn server(date: Option<&str>) -> Server {
    Server {
        address: "http://127.0.0.1:1".into(),
        initialized: true,
        sealed: false,
        version: Some("2.7.2".into()),
        build_date: date.map(str::to_string),
        cluster_name: None,
        storage_type: None,
        ha_enabled: Some(false),
        is_leader: None,
        leader_address: None,
    }
}

#[test]
fn version_age_thresholds() {
    let built = parse_rfc3339_secs("2026-01-01T00:00:00Z").unwrap();
    let f = version_age(&server(Some("2026-01-01T00:00:00Z")), built + 10 * DAY);
    assert_eq!((f.points, f.outcome), (5, super::super::Outcome::Pass));
    let f = version_age(&server(Some("2026-01-01T00:00:00Z")), built + 200 * DAY);
    assert_eq!((f.points, f.outcome), (2, super::super::Outcome::Warn));
    assert_eq!(
        f.evidence,
        vec!["version 2.7.2 built 2026-01-01T00:00:00Z (200 days ago)"]
    );
    let f = version_age(&server(Some("2026-01-01T00:00:00Z")), built + 400 * DAY);
    assert_eq!(f.points, 0);
    assert_eq!(
        version_age(&server(None), 0).outcome,
        super::super::Outcome::NotAssessed
    );
}
