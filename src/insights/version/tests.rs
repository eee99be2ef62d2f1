use super::*;

fn rel(tag: &str, date: &str, body: &str) -> Release {
    Release {
        tag_name: tag.into(),
        name: Some(tag.into()),
        published_at: Some(date.into()),
        body: Some(body.into()),
        prerelease: false,
        draft: false,
    }
}

#[test]
fn versions_parse_and_order() {
    assert_eq!(Version::parse("v2.7.2").unwrap().to_string(), "2.7.2");
    assert!(Version::parse("2.7.10").unwrap() > Version::parse("2.7.9").unwrap());
    assert!(Version::parse("2.8.0-rc1").unwrap() < Version::parse("2.8.0").unwrap());
    assert!(Version::parse("1.18.0+ent").unwrap().release);
    assert_eq!(Version::parse("banana"), None);
    assert_eq!(default_feed("2.7.2"), OPENBAO_FEED);
    assert_eq!(default_feed("1.18.3"), VAULT_FEED);
}

#[test]
fn compare_counts_newer_stable_releases_and_days() {
    let mut pre = rel("v2.9.0-beta1", "2027-03-01T00:00:00Z", "beta");
    pre.prerelease = true;
    let releases = vec![
        rel(
            "v2.8.1",
            "2027-02-10T00:00:00Z",
            "## What's Changed\n* Fix a seal migration bug",
        ),
        pre,
        rel("v2.8.0", "2027-01-01T00:00:00Z", "# OpenBao 2.8.0\nbody"),
        rel("v2.7.2", "2026-12-01T00:00:00Z", ""),
        rel("v2.7.1", "2026-11-01T00:00:00Z", ""),
    ];
    let r = compare("2.7.2", "F", &releases);
    assert!(r.update_available);
    assert_eq!(r.versions_behind, 2);
    assert_eq!(r.latest_version.as_deref(), Some("2.8.1"));
    assert_eq!(r.days_behind, Some(71));
    assert_eq!(r.newer[0].headline, "Fix a seal migration bug");
    assert_eq!(r.newer[1].headline, "OpenBao 2.8.0");
    let r = compare("2.8.1", "F", &releases);
    assert!(!r.update_available);
    assert_eq!((r.versions_behind, r.days_behind), (0, Some(0)));
    // Not in the feed: from the first newer release on.
    let r = compare("2.6.0", "F", &releases[..3]);
    assert_eq!((r.versions_behind, r.days_behind), (2, Some(40)));
}
