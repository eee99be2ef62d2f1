//! Security alerts from OpenBao's/Vault's socket audit device ("Vault AIDE").
//!
//! ```text
//!  OpenBao ──socket──▶ listener (peer check, task per connection, framing, limits)
//!                         │ pre-filter: security-relevant → priority lane (never
//!                         │ dropped, spills to disk); others → bounded lane
//!                         ▼
//!                      per-connection lanes ──round robin──▶ engine thread
//!                                              (parse, dedup, rules, coalesce)
//!                                              │ alerts
//!                                              ▼
//!                                   outbox (<stateDir>/audit/outbox, fsynced)
//!                                              │ in order, once
//!                                              ▼
//!                                   Slack sender (429 Retry-After, backoff)
//! ```
//!
//! [`serve`] runs all of it until its shutdown future completes; `vaultkeeper
//! audit listen` and the daemon call it. [`replay::replay`] runs the same rules
//! over a file. Counters are in [`StatsHandle`] and `<stateDir>/audit/stats.json`.

pub(crate) mod alert;
pub(crate) mod bind;
pub(crate) mod budget;
pub(crate) mod cli;
pub(crate) mod connection;
pub(crate) mod dedup;
pub(crate) mod engine_counts;
mod engine_thread;
pub(crate) mod entry;
pub(crate) mod error;
pub(crate) mod frame;
pub(crate) mod ingest;
pub(crate) mod listener;
pub(crate) mod lost_lines;
pub(crate) mod peer;
pub(crate) mod prefilter;
pub(crate) mod ratelog;
pub(crate) mod redact;
pub(crate) mod replay;
pub(crate) mod rules;
pub(crate) mod serve;
pub(crate) mod sink;
pub(crate) mod slack;
pub(crate) mod spec;
pub(crate) mod spill;
pub(crate) mod stats;

pub use crate::spec::audit::AuditSpec;
pub(crate) use alert::Alert;
pub(crate) use serve::serve;
pub use serve::serve_with_stats;
pub use stats::StatsHandle;
pub(crate) use stats::StatsSnapshot;
