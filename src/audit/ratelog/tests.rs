//! Unit tests of ratelog.rs.

use super::*;

#[test]
fn one_line_a_minute_with_the_count() {
    let r = RateLog::default();
    let t0 = Instant::now();
    assert_eq!(r.admit(t0), Some(0));
    for i in 1..1000 {
        assert_eq!(r.admit(t0 + Duration::from_millis(i)), None);
    }
    assert_eq!(r.admit(t0 + INTERVAL), Some(999));
    assert_eq!(r.admit(t0 + INTERVAL + Duration::from_secs(1)), None);
}
