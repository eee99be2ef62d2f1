//! Moved to [`crate::backoff`]; this name stays until every caller says `crate::backoff`.
pub use crate::backoff::*;
