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

pub(crate) mod agent;
pub(crate) mod cli;
pub(crate) mod digest;
mod error;
pub(crate) mod leases;
pub(crate) mod output;
pub(crate) mod posture;
mod reads;
pub(crate) mod status;
mod token;
pub(crate) mod usage;
pub(crate) mod version;

pub(crate) use error::InsightsError;
pub(crate) use reads::read_unauthenticated;
#[cfg(test)]
pub(crate) use token::env_token;
pub(crate) use token::{check_env_token, env_token_named, TokenSource};

#[cfg(test)]
mod tests;
