//! Insights for operators: `status`, `posture`, `version-check`, `report leases`,
//! `report usage` and the daemon's Slack digest.
//!
//! Every command reads only (see `docs/policies/insights.hcl` for the exact
//! policy). A read the token may not do becomes "not assessed" with the reason,
//! never a failure of the whole command. The token is `VAULT_TOKEN`/`BAO_TOKEN`
//! when set (an operator at a terminal), else the host's AppRole from the spec.
//!
//! - [`status`]: server, audit devices, mounts, this token, per-secret state.
//! - [`posture`]: a 0–100 score from weighted checks, each with evidence and fix.
//! - [`version`]: the server's version against a GitHub-releases-shaped feed.
//! - [`leases`] and [`usage`]: the two reports.
//! - [`digest`]: the Block Kit payloads the daemon sends (digest, sealed alert).
//! - [`output`]: human rendering (JSON is the serde form of each report).
//! - [`cli`]: the subcommands' arguments and their edge.

pub mod agent;
pub mod cli;
pub mod digest;
mod error;
pub mod leases;
pub mod output;
pub mod posture;
mod reads;
pub mod status;
pub mod time;
mod token;
pub mod usage;
pub mod version;

pub use error::InsightsError;
pub(crate) use reads::read_unauthenticated;
pub use time::{human_secs, parse_time, rfc3339};
pub use token::{authenticate, check_env_token, env_token, env_token_named, release, TokenSource};

#[cfg(test)]
mod tests;
