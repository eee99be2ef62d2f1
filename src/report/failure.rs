//! [`Failure`]: an error at the CLI edge that carries what failed, what to do
//! and its exit code, and [`UsageContext`] to make one from any error.

use crate::exit;
use std::error::Error;
use std::fmt;

/// A failure at the CLI edge: what failed, what to do, and its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    what: String,
    pub(super) fix: Option<String>,
    pub(super) code: u8,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl Failure {
    /// A user or configuration mistake (exit 2).
    pub(crate) fn usage(what: impl Into<String>, fix: impl Into<String>) -> Failure {
        Failure::new(exit::USAGE, what, fix)
    }

    pub(crate) fn new(code: u8, what: impl Into<String>, fix: impl Into<String>) -> Failure {
        let fix = fix.into();
        Failure {
            what: what.into(),
            fix: (!fix.is_empty()).then_some(fix),
            code,
            source: None,
        }
    }

    /// The cause, said after `what`.
    pub(crate) fn caused_by(
        mut self,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// `result.usage_err("what failed", "what to do")`: the error becomes the cause
/// of a [`Failure::usage`].
pub(crate) trait UsageContext<T> {
    fn usage_err(self, what: impl Into<String>, fix: impl Into<String>) -> Result<T, Failure>;
}

impl<T, E: Into<Box<dyn Error + Send + Sync + 'static>>> UsageContext<T> for Result<T, E> {
    fn usage_err(self, what: impl Into<String>, fix: impl Into<String>) -> Result<T, Failure> {
        self.map_err(|e| Failure::usage(what, fix).caused_by(e))
    }
}
