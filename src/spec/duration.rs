//! A duration field of the spec: absent → its default, unparsable → a
//! [`Problem`] at its JSON path (and the default, so validation goes on).

use super::error::Problem;
use super::interval::parse_duration;
use std::time::Duration;

/// `value` (humantime, e.g. `"30s"`) at JSON path `path`, else `default`.
pub(crate) fn duration(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<&str>,
    default: Duration,
) -> Duration {
    match value {
        None => default,
        Some(v) => parse_duration(v).unwrap_or_else(|m| {
            problems.push(Problem::new(path, m));
            default
        }),
    }
}

/// Reports `d` at `path` when it is shorter than one second; `example` is what
/// the message suggests writing (e.g. `"5m"`).
pub(crate) fn at_least_one_second(
    problems: &mut Vec<Problem>,
    path: &str,
    d: Duration,
    example: &str,
) {
    if d < Duration::from_secs(1) {
        problems.push(Problem::new(
            path,
            format!("must be at least one second, e.g. \"{example}\""),
        ));
    }
}

#[cfg(test)]
mod tests;
