//! Prometheus metrics: one registry per process ([`global`]), fed by the
//! daemon, the Vault client, the restart worker and the audit listener, and
//! exposed two ways (spec `metrics`):
//!
//! - `metrics.textfile`: a `.prom` file rewritten atomically (temporary file in
//!   the same directory, then `rename(2)`) on every pass of the daemon's loop, for
//!   node-exporter's textfile collector ([`textfile`]);
//! - `metrics.listen`: a loopback-only HTTP endpoint serving `GET /metrics`
//!   ([`http`]).
//!
//! The encoder is the `prometheus` crate's `TextEncoder`: the classic text format
//! 0.0.4 that node-exporter's textfile collector parses (counter `# TYPE` lines
//! carry the `_total` name; OpenMetrics output would not, and the collector would
//! read the counters as untyped). Names and labels: `docs/reference/metrics.md`.
//!
//! Nothing here ever holds a secret value: labels are secret names (spec keys),
//! unit names, Vault addresses, rule names and outcome words.

pub(crate) mod http;
mod record;
mod registry;
pub(crate) mod textfile;
mod values;

pub(crate) use registry::global;
pub use registry::Metrics;
pub(crate) use values::SKIP_CRITICAL;
pub use values::{AuditTotals, Outcome, TokenExpiry};

#[cfg(test)]
mod tests;
