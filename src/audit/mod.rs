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

pub mod alert;
pub mod bind;
pub mod budget;
pub mod cli;
pub mod connection;
pub mod dedup;
pub mod engine_counts;
mod engine_thread;
pub mod entry;
pub mod error;
pub mod frame;
pub mod ingest;
pub mod listener;
pub mod lost_lines;
pub mod peer;
pub mod prefilter;
pub mod ratelog;
pub mod redact;
pub mod replay;
pub mod rules;
pub mod serve;
pub mod sink;
pub mod slack;
pub mod spec;
pub mod spill;
pub mod stats;

pub use crate::spec::audit::{AuditSpec, Severity};
pub use alert::Alert;
pub use error::AuditError;
pub use lost_lines::LostLines;
pub use serve::{serve, serve_with_stats};
pub use stats::{StatsHandle, StatsSnapshot};
