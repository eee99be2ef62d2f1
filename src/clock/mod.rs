//! Time, one way: the clock (Unix seconds and milliseconds), RFC 3339 parsing
//! and formatting, and durations in words. Everything that shows or reads a
//! time goes through here, so an offset is never dropped and a duration reads
//! the same in a log line, `status` and a Slack alert.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix() -> u64 {
    unix_secs(SystemTime::now())
}

/// `t` in seconds since the Unix epoch (0 before it).
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An RFC 3339 time: `Z` or any `±hh:mm` offset, any fraction
/// (`2026-10-26T20:32:27.123456789+02:00`). Also accepted, as UTC, what
/// `humantime` calls weak RFC 3339: no offset, or a space for the `T`.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        let nanos = t.unix_timestamp_nanos();
        return u64::try_from(nanos)
            .ok()
            .map(|n| UNIX_EPOCH + Duration::from_nanos(n));
    }
    humantime::parse_rfc3339_weak(s).ok()
}

/// [`parse_rfc3339`] as Unix seconds (before the epoch: `None`).
pub(crate) fn parse_rfc3339_secs(s: &str) -> Option<u64> {
    Some(parse_rfc3339(s)?.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// [`parse_rfc3339`] as Unix milliseconds (before the epoch: `None`).
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    Some(
        parse_rfc3339(s)?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis() as i64,
    )
}

/// `2026-11-30T10:00:00Z` for Unix seconds.
pub(crate) fn rfc3339_secs(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// `2026-11-30T10:00:00.250Z` for Unix milliseconds (negative: the epoch).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
        .to_string()
}

/// `2026-11-30T10:00:00Z` for a point in time (whole seconds).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A duration exactly, in whole seconds, hours the largest unit: `15m`,
/// `1h 30m`, `768h`, `1m 30s`, `0s` (the alerts', logs' and `status`'s one way).
pub(crate) fn duration_words(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec}s"));
    }
    parts.join(" ")
}

/// [`duration_words`] for a number of seconds (negative: `0s`).
pub(crate) fn secs_words(secs: i64) -> String {
    duration_words(Duration::from_secs(secs.max(0) as u64))
}

/// An age for people, coarse (at most two units): `3d 4h`, `5m 2s`, `0s`.
pub(crate) fn coarse_words(secs: u64) -> String {
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

#[cfg(test)]
mod tests;
