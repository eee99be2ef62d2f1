//! Human rendering of the insights reports. `--json` prints the serde form
//! instead (documented in docs/reference/insights-json.md).

mod posture;
mod reports;
mod status;
mod table;

pub(crate) use posture::{posture, version};
pub(crate) use reports::{leases, usage};
#[cfg(test)]
pub(crate) use status::addresses_table;
pub(crate) use status::{outage, status, Outage, OutageServer};

#[cfg(test)]
mod tests;
