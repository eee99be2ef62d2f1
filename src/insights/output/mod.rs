//! Human rendering of the insights reports. `--json` prints the serde form
//! instead (documented in docs/reference/insights-json.md).

mod posture;
mod reports;
mod status;
mod table;

pub use posture::{posture, version};
pub use reports::{leases, usage};
pub use status::{addresses_table, outage, secret_state_words, status, Outage, OutageServer};
pub use table::{age_words, table};

#[cfg(test)]
mod tests;
