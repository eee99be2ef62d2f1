use super::*;

#[test]
fn a_failing_digest_is_retried_then_reported() {
    assert_eq!(after_failure(1000, 1000), AfterFailure::RetryAt(1300));
    assert_eq!(after_failure(1000, 2799), AfterFailure::RetryAt(3099));
    assert_eq!(after_failure(1000, 2800), AfterFailure::Report);
}
