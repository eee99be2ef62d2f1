//! Unit tests of ratelog.rs.

use super::*;

#[test]
fn bounded_per_window_and_counts_the_rest() {
    let l = RateLog::new(Duration::from_secs(60), 3);
    let t = Instant::now();
    let allowed = (0..1000).filter(|_| l.permit(t).is_some()).count();
    assert_eq!(allowed, 3);
    assert_eq!(l.permit(t + Duration::from_secs(30)), None);
    assert_eq!(
        l.permit(t + Duration::from_secs(61)),
        Some(Permit {
            suppressed_before: 998
        })
    );
    assert_eq!(
        l.permit(t + Duration::from_secs(62)),
        Some(Permit {
            suppressed_before: 0
        })
    );
}
