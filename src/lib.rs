//! vaultkeeper: a secrets agent for NixOS hosts, for HashiCorp Vault and OpenBao.
//!
//! # Layout
//!
//! - [`spec`]: the declarative JSON spec the NixOS module generates, its defaults,
//!   validation (every error names a JSON path) and environment overrides.
//! - [`vault`]: a small async client for the parts of the Vault HTTP API we use
//!   (AppRole, KV v1/v2, response wrapping, sys/*), with one error enum that tells
//!   "unreachable" from "denied" from "not found" from "malformed".
//! - [`render`]: writing secrets to disk: key-name validation, atomic file writes
//!   that never follow symlinks, whole-generation switches of an output directory.
//! - [`paths`]: where vaultkeeper may write, in one place: the outputDir/cacheDir/
//!   stateDir rules (system directories from `nix/path-rules.json`) and the walk
//!   that opens the directories on the way (no writable-by-others parent, symlinks
//!   only when root-owned all the way).
//! - [`input`]: the one bounded reader of local input files (credentials, wrapped
//!   token, spec): `O_NOFOLLOW`, regular file, owner, mode, size cap.
//! - [`lock`]: one writer per secret, an `flock` per secret under `<stateDir>/locks`.
//! - [`cache`]: the persistent last-known-good cache used when Vault is unreachable.
//! - [`bootstrap`]: first boot, unwrapping a response-wrapped AppRole credential.
//! - [`fetch`]: one AppRole login, concurrent KV reads, rendering and cache fallback.
//! - [`daemon`]: `vaultkeeper run`, the long-running systemd notify service: token
//!   renewal, change detection, change-driven and scheduled restarts, self-healing.
//! - [`systemd`]: everything said to systemd (sd_notify, watchdog, `systemctl`).
//! - [`provision`]: the operator side, creating a host's policy, AppRole and wrapped token.
//! - [`insights`]: operator insights: `status`, `posture` (score), `version-check`,
//!   `report leases|usage`, and the daemon's Slack digest and sealed alert.
//! - [`template`]: templates (`content` with `{{ SECRET.KEY }}` placeholders, or
//!   `envFrom` environment files) rendered from several secrets into one file.
//! - [`secret`]: a string type for secret values that never prints itself.
//! - [`exit`]: the documented process exit codes.
//! - [`dumpable`]: the process makes itself non-dumpable and core-less at start.
//! - [`report`]: the one rule for error messages (what failed, the cause once,
//!   the fix) and the one mapping from errors to exit codes.
//! - [`build_info`]: the version and git revision `--version` prints.
//! - [`audit`]: the socket audit-device listener, its alert rules, `audit replay`
//!   and the counters insights reads.
//! - [`slack`]: Slack delivery for alerts and digests: a persistent outbox per
//!   destination, drained in order with `Retry-After` and backoff.
//! - [`metrics`]: Prometheus metrics, as a node-exporter textfile and a loopback
//!   `/metrics` endpoint (spec `metrics`).
//! - [`chat`]: Slack slash commands (`/vault status` ...): a verified, read-only
//!   HTTP endpoint answering with the digest's Block Kit blocks.
//! - [`cli`]: argument parsing and the edge where errors become messages and exit codes.
#![forbid(unsafe_code)]

mod audit;
mod backoff;
mod boot_cache;
mod bootstrap;
mod build_info;
mod cache;
mod chat;
mod cli;
mod clock;
mod daemon;
mod dumpable;
mod exit;
mod fetch;
mod fs;
mod host;
mod input;
mod insights;
mod lock;
mod logging;
mod metrics;
mod paths;
mod pin;
mod provision;
mod render;
mod report;
mod runtime;
mod secret;
mod slack;
mod spec;
mod state;
mod systemd;
mod template;
mod token_erase;
mod vault;

/// The binary's entry point (`src/main.rs` is one line).
pub use cli::main;

// What integration tests, benchmarks, fuzz targets and examples use; the rest
// of the crate is `pub(crate)` (the `unreachable_pub` lint keeps it so).
pub use audit::frame::{Frame, Framer};
pub use audit::rules::{Clock, Engine};
pub use audit::slack::payload as audit_alert_payload;
pub use audit::spec::from_json as audit_spec_from_json;
pub use audit::{serve_with_stats, AuditSpec, StatsHandle};
pub use clock::now_unix;
pub use daemon::schedule::refresh_delay;
pub use daemon::token::{after_login, after_renewal, Plan};
pub use host::hostname;
pub use lock::SecretLock;
pub use metrics::{AuditTotals, Metrics, Outcome, TokenExpiry};
pub use render::{render, Rendered};
pub use spec::audit::BUILTIN as BUILTIN_AUDIT_RULES;
pub use spec::{KvVersion, OnChange, SecretSpec, Spec};
pub use state::{save as save_secret_record, SecretRecord};
pub use systemd::monotonic_usec;
pub use vault::failover::host_order;
pub use vault::kv::SecretData;
