//! The limits the posture checks score against.

/// Seconds in a day.
pub(crate) const DAY: u64 = 86400;
/// Token TTLs above these are "long".
pub(crate) const LONG_DEFAULT_TTL: u64 = DAY;
pub(crate) const LONG_MAX_TTL: u64 = 7 * DAY;
/// KV v2 keeps at most this many versions before it counts as hoarding old secrets.
pub(crate) const MAX_KV_VERSIONS: u64 = 20;
/// Certificates closer than this to expiry lose points.
pub(crate) const CERT_WARN_DAYS: i64 = 30;
/// Server builds older than these lose half, then all points.
pub(crate) const VERSION_WARN_DAYS: u64 = 180;
pub(crate) const VERSION_FAIL_DAYS: u64 = 365;
