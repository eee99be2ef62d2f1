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

pub mod http;
mod record;
mod registry;
pub mod textfile;
mod values;

pub use registry::{global, Metrics};
pub use values::{AuditTotals, Outcome, TokenExpiry, SKIP_CRITICAL};

#[cfg(test)]
mod tests;
