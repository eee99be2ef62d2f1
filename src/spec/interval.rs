//! Durations and schedules as the spec writes them: humantime (`"10s"`, `"36h"`)
//! and the calendar words of `restartInterval` (`"daily"`, `"weekly"`, `"monthly"`).

use std::time::Duration;

/// Parses a humantime duration ("10s", "5m", "1h 30m"). Zero is allowed only
/// where the caller says so.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        format!("{s:?} is not a duration ({e}); write e.g. \"30s\", \"5m\" or \"36h\"")
    })
}

/// A restart schedule: `daily` = 24h, `weekly` = 7d, `monthly` = 30d, or a duration.
pub(crate) fn parse_restart_interval(s: &str) -> Result<Duration, String> {
    let d = match s.trim() {
        "daily" => Duration::from_secs(24 * 3600),
        "weekly" => Duration::from_secs(7 * 24 * 3600),
        "monthly" => Duration::from_secs(30 * 24 * 3600),
        other => parse_duration(other).map_err(|_| {
            format!("{s:?} is not a restart interval; write \"daily\", \"weekly\", \"monthly\" or a duration such as \"36h\"")
        })?,
    };
    if d < Duration::from_secs(1) {
        return Err(format!("{s:?} is shorter than one second"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_words_and_durations() {
        assert_eq!(
            parse_restart_interval("daily").unwrap(),
            Duration::from_secs(86400)
        );
        assert_eq!(
            parse_restart_interval("weekly").unwrap(),
            Duration::from_secs(604800)
        );
        assert_eq!(
            parse_restart_interval("monthly").unwrap(),
            Duration::from_secs(2592000)
        );
        assert_eq!(
            parse_restart_interval("36h").unwrap(),
            Duration::from_secs(36 * 3600)
        );
        assert!(parse_restart_interval("fortnightly")
            .unwrap_err()
            .contains("\"daily\""));
        assert!(parse_restart_interval("0s").is_err());
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("ten").is_err());
    }
}
