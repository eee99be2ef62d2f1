//! [`Refusal`]: why a path is refused, the rule's name (as in the security
//! model) and the message with its fix. The spec turns it into a `Problem`
//! at its JSON path.

use std::fmt;

/// A path rule said no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The rule's name, as `docs/explanation/security-model.md` lists it.
    pub rule: &'static str,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(rule: &'static str, message: String) -> Refusal {
        Refusal { rule, message }
    }
}

impl fmt::Display for Refusal {
    /// `"<message> [rule: <rule>]"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [rule: {}]", self.message, self.rule)
    }
}
