use super::*;

#[test]
fn offsets_are_applied_not_dropped() {
    let z = parse_rfc3339_secs("2026-10-26T20:32:27Z").unwrap();
    assert_eq!(z, 1_793_046_747);
    assert_eq!(parse_rfc3339_secs("2026-10-26T22:32:27+02:00"), Some(z));
    assert_eq!(parse_rfc3339_secs("2026-10-26T15:32:27-05:00"), Some(z));
    assert_eq!(
        parse_rfc3339_secs("2026-10-26T20:32:27.999999999Z"),
        Some(z)
    );
    assert_eq!(
        parse_rfc3339_ms("2026-10-26T20:32:27.250Z"),
        Some(z as i64 * 1000 + 250)
    );
}

#[test]
fn weak_forms_are_utc_and_garbage_is_none() {
    let z = parse_rfc3339_secs("2026-10-26T20:32:27Z");
    assert_eq!(parse_rfc3339_secs("2026-10-26T20:32:27"), z);
    assert_eq!(parse_rfc3339_secs("2026-10-26 20:32:27"), z);
    for bad in [
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ] {
        assert_eq!(parse_rfc3339_secs(bad), None, "{bad}");
    }
}

#[test]
fn formatting_round_trips() {
    assert_eq!(rfc3339_secs(1_793_046_747), "2026-10-26T20:32:27Z");
    assert_eq!(rfc3339_ms(1_793_046_747_250), "2026-10-26T20:32:27.250Z");
    assert_eq!(rfc3339_ms(-5), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        parse_rfc3339_secs(&rfc3339_secs(1_700_000_000)),
        Some(1_700_000_000)
    );
}

#[test]
fn durations_in_words() {
    assert_eq!(duration_words(Duration::from_secs(900)), "15m");
    assert_eq!(duration_words(Duration::from_millis(90_500)), "1m 30s");
    assert_eq!(duration_words(Duration::from_secs(768 * 3600)), "768h");
    assert_eq!(duration_words(Duration::from_secs(5400)), "1h 30m");
    assert_eq!(duration_words(Duration::ZERO), "0s");
    assert_eq!(secs_words(-3), "0s");
    assert_eq!(coarse_words(0), "0s");
    assert_eq!(coarse_words(3 * 86400 + 4 * 3600 + 5), "3d 4h");
    assert_eq!(coarse_words(302), "5m 2s");
}
