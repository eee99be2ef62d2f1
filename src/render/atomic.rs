//! Moved to [`crate::fs`]; this name stays until every caller says `crate::fs`.
pub use crate::fs::*;
