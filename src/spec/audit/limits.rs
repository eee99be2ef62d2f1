//! The listener's and the engine's bounds: `audit.queueBytes`,
//! `maxConnections`, `idleTimeout`, `memoryBudget`, `spillBytes` and how often
//! counters are saved (`statsInterval`).

use crate::spec::error::Problem;
use crate::spec::fields::duration;
use std::ops::RangeInclusive;
use std::time::Duration;

pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 64;
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
pub(crate) const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;
pub(crate) const DEFAULT_SPILL_BYTES: u64 = 1 << 30;
const DEFAULT_QUEUE_BYTES: u64 = 16 << 20;
const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(30);

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

/// A count at `path` inside `range`, else `default` and a problem saying
/// `message(value)`.
fn in_range(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<u64>,
    range: RangeInclusive<u64>,
    default: u64,
    message: impl Fn(u64) -> String,
) -> u64 {
    match value {
        None => default,
        Some(v) if range.contains(&v) => v,
        Some(v) => {
            problems.push(Problem::new(path, message(v)));
            default
        }
    }
}

pub(crate) fn queue_bytes(problems: &mut Vec<Problem>, raw: Option<u64>) -> usize {
    in_range(
        problems,
        "audit.queueBytes",
        raw,
        1 << 20..=1 << 32,
        DEFAULT_QUEUE_BYTES,
        |b| {
            format!("{b} is out of range; write a byte count between 1048576 (1 MiB) and 4294967296 (4 GiB)")
        },
    ) as usize
}

pub(crate) fn stats_interval(problems: &mut Vec<Problem>, raw: Option<&str>) -> Duration {
    let d = duration(problems, "audit.statsInterval", raw, DEFAULT_STATS_INTERVAL);
    at_least_one_second(problems, "audit.statsInterval", d, "30s");
    d
}

pub(crate) fn max_connections(problems: &mut Vec<Problem>, raw: Option<u64>) -> usize {
    in_range(
        problems,
        "audit.maxConnections",
        raw,
        1..=4096,
        DEFAULT_MAX_CONNECTIONS as u64,
        |n| format!("{n} is out of range; write a number between 1 and 4096 (default 64)"),
    ) as usize
}

pub(crate) fn idle_timeout(problems: &mut Vec<Problem>, raw: Option<&str>) -> Duration {
    let d = duration(problems, "audit.idleTimeout", raw, DEFAULT_IDLE_TIMEOUT);
    at_least_one_second(problems, "audit.idleTimeout", d, "5m");
    d
}

/// `audit.memoryBudget`: at least `queue_bytes`, and room for every connection.
pub(crate) fn memory_budget(
    problems: &mut Vec<Problem>,
    raw: Option<u64>,
    queue_bytes: usize,
    max_connections: usize,
) -> usize {
    let memory_budget = match raw {
        None => DEFAULT_MEMORY_BUDGET.max(queue_bytes),
        Some(b) if (4 << 20..=1 << 34).contains(&b) && b as usize >= queue_bytes => b as usize,
        Some(b) => {
            problems.push(Problem::new(
                "audit.memoryBudget",
                format!("{b} is out of range; write a byte count between 4194304 (4 MiB) and 17179869184 (16 GiB), at least queueBytes ({queue_bytes})"),
            ));
            DEFAULT_MEMORY_BUDGET
        }
    };
    // Every connection's read buffer and first 64 KiB of a partial line are
    // kept free in the budget (see audit::listener::FREE_PARTIAL).
    let reserve = max_connections * (80 << 10);
    if memory_budget < reserve + (1 << 20) {
        problems.push(Problem::new(
            "audit.memoryBudget",
            format!(
                "{memory_budget} bytes cannot hold {max_connections} connections (audit.maxConnections): give at least {} (80 KiB per connection + 1 MiB)",
                reserve + (1 << 20)
            ),
        ));
    }
    memory_budget
}

pub(crate) fn spill_bytes(problems: &mut Vec<Problem>, raw: Option<u64>) -> u64 {
    in_range(
        problems,
        "audit.spillBytes",
        raw,
        1 << 20..=1 << 40,
        DEFAULT_SPILL_BYTES,
        |b| {
            format!("{b} is out of range; write a byte count between 1048576 (1 MiB) and 1099511627776 (1 TiB)")
        },
    )
}

#[cfg(test)]
mod tests;
