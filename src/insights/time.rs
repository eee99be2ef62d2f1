//! Times and durations in insights' words: RFC 3339 parsing and formatting and
//! "3d 4h". (The lead folds these into the crate's one clock module.)

/// Unix seconds of an RFC 3339 time ("2026-10-26T20:32:27Z", with or without fraction).
pub fn parse_time(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z').split('+').next()?).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// "3d 4h" for a number of seconds (coarse: at most two units).
pub fn human_secs(secs: u64) -> String {
    let units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (u, n) in units {
        if rest >= n && parts.len() < 2 {
            parts.push(format!("{}{u}", rest / n));
            rest %= n;
        } else if !parts.is_empty() {
            break;
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

/// RFC 3339 (seconds) for unix seconds.
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}
