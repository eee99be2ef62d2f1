//! The one place where a failure becomes a message and an exit code.
//!
//! # The rule
//!
//! Every error the CLI reports is ONE line:
//!
//! ```text
//! <what failed>: <the cause, once>; <what to do>
//! ```
//!
//! - The error chain (anyhow context, thiserror `#[source]`s) is joined with
//!   `": "`, and a cause whose text the message already says is left out, so an
//!   error whose own text quotes its source (`"cannot read X: {source}"`) does
//!   not repeat the OS error.
//! - Vault's multi-error lists (`"1 error occurred:\n\t* permission denied\n\n"`)
//!   become `permission denied` (see [`vault_message`]), and any other line
//!   break becomes a space, so a journal line is a whole message.
//! - The fix comes last: a [`Failure`]'s `fix`, else the error's own text (every
//!   error enum of the crate ends its message with what to do).
//!
//! Exit codes ([`exit_code`]): the first error in the chain that knows its code
//! decides; a user or configuration mistake is [`exit::USAGE`] (2); only an
//! error nobody classified is [`exit::INTERNAL`] (1), i.e. a bug.

use crate::exit;
use std::error::Error;
use std::fmt;

/// A failure at the CLI edge: what failed, what to do, and its exit code.
#[derive(Debug)]
pub struct Failure {
    what: String,
    fix: Option<String>,
    code: u8,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl Failure {
    /// A user or configuration mistake (exit 2).
    pub fn usage(what: impl Into<String>, fix: impl Into<String>) -> Failure {
        Failure::new(exit::USAGE, what, fix)
    }

    pub fn new(code: u8, what: impl Into<String>, fix: impl Into<String>) -> Failure {
        let fix = fix.into();
        Failure {
            what: what.into(),
            fix: (!fix.is_empty()).then_some(fix),
            code,
            source: None,
        }
    }

    /// The cause, said after `what`.
    pub fn caused_by(mut self, source: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn code(&self) -> u8 {
        self.code
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
pub trait UsageContext<T> {
    fn usage_err(self, what: impl Into<String>, fix: impl Into<String>) -> Result<T, Failure>;
}

impl<T, E: Into<Box<dyn Error + Send + Sync + 'static>>> UsageContext<T> for Result<T, E> {
    fn usage_err(self, what: impl Into<String>, fix: impl Into<String>) -> Result<T, Failure> {
        self.map_err(|e| Failure::usage(what, fix).caused_by(e))
    }
}

/// Vault's error text on one line: a go-multierror list
/// (`"1 error occurred:\n\t* permission denied\n\n"`) becomes its items joined
/// with `"; "`; other line breaks become spaces.
pub fn vault_message(s: &str) -> String {
    let t = s.trim();
    let mut lines = t.lines();
    let first = lines.next().unwrap_or("");
    // "<prefix>N error(s) occurred:" then "\t* item" lines.
    let head = first
        .strip_suffix(" errors occurred:")
        .or_else(|| first.strip_suffix(" error occurred:"));
    if let Some(head) = head {
        let prefix = head.trim_end_matches(|c: char| c.is_ascii_digit());
        let items: Vec<&str> = lines
            .filter_map(|l| l.trim().strip_prefix("* "))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if !items.is_empty() && prefix.len() < head.len() {
            return format!("{prefix}{}", one_line(&items.join("; ")));
        }
    }
    one_line(t)
}

/// Collapses every run of whitespace (line breaks, tabs) to one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message of an error and its causes, by the rule above.
pub fn message(e: &(dyn Error + 'static)) -> String {
    let mut text = String::new();
    let mut fixes: Vec<&str> = Vec::new();
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(f) = err.downcast_ref::<Failure>() {
            if let Some(fix) = &f.fix {
                fixes.push(fix);
            }
        }
        // Multi-problem spec errors are a deliberate list, one problem a line.
        let part = if err.downcast_ref::<crate::spec::SpecError>().is_some() {
            err.to_string()
        } else {
            vault_message(&err.to_string())
        };
        if !part.is_empty() && !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        cur = err.source();
    }
    for fix in fixes {
        text.push_str("; ");
        text.push_str(fix);
    }
    text
}

/// The exit code of a failure: the first error in the chain that knows its code.
pub fn exit_code(e: &(dyn Error + 'static)) -> u8 {
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(code) = known_code(err) {
            return code;
        }
        cur = err.source();
    }
    exit::INTERNAL
}

fn known_code(err: &(dyn Error + 'static)) -> Option<u8> {
    use crate::vault::VaultError;
    if let Some(f) = err.downcast_ref::<Failure>() {
        return Some(f.code);
    }
    if err.downcast_ref::<crate::spec::SpecError>().is_some() {
        return Some(exit::USAGE);
    }
    if let Some(e) = err.downcast_ref::<crate::insights::InsightsError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<crate::fetch::FetchError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<crate::bootstrap::BootstrapError>() {
        return Some(e.exit_code());
    }
    if err
        .downcast_ref::<crate::audit::bind::BindError>()
        .is_some()
    {
        // A listen address in use or not ours to bind: a configuration mistake.
        return Some(exit::USAGE);
    }
    if let Some(e) = err.downcast_ref::<crate::daemon::DaemonError>() {
        return match e {
            crate::daemon::DaemonError::Spec(_) => Some(exit::USAGE),
            crate::daemon::DaemonError::Client(_) => Some(exit::USAGE),
        };
    }
    if let Some(e) = err.downcast_ref::<VaultError>() {
        return Some(vault_code(e));
    }
    None
}

/// A Vault refusal's documented code (see [`crate::vault::VaultError::exit_code`]).
pub fn vault_code(e: &crate::vault::VaultError) -> u8 {
    e.exit_code()
}

/// Logs `e` by the rule (one ERROR line) and returns its exit code.
pub fn fail(e: &(dyn Error + 'static)) -> u8 {
    tracing::error!("{}", message(e));
    exit_code(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_lists_are_flattened() {
        assert_eq!(
            vault_message("1 error occurred:\n\t* permission denied\n\n"),
            "permission denied"
        );
        assert_eq!(
            vault_message("2 errors occurred:\n\t* a\n\t* b\n\n"),
            "a; b"
        );
        assert_eq!(vault_message("plain\nwrapped  text"), "plain wrapped text");
        assert_eq!(vault_message("* not a list"), "* not a list");
        assert_eq!(
            vault_message("Vault denied x: 1 error occurred:\n\t* permission denied\n\n"),
            "Vault denied x: permission denied"
        );
    }

    #[test]
    fn the_os_error_is_said_once_and_the_fix_comes_last() {
        let io = std::io::Error::from_raw_os_error(2);
        let spec = crate::spec::SpecError::Read {
            path: "/x.json".into(),
            source: io,
        };
        let m = message(&spec);
        assert_eq!(m.matches("os error 2").count(), 1, "{m}");

        let f = Failure::usage(
            "cannot open audit log /nope",
            "give a file audit device's log",
        )
        .caused_by(std::io::Error::from_raw_os_error(2));
        let m = message(&f);
        assert_eq!(
            m,
            "cannot open audit log /nope: No such file or directory (os error 2); give a file audit device's log"
        );
        assert_eq!(exit_code(&f), exit::USAGE);
    }

    #[test]
    fn codes_come_from_the_first_error_that_knows_one() {
        let denied = crate::vault::VaultError::PermissionDenied {
            path: "sys/policy/x".into(),
            message: "1 error occurred:\n\t* permission denied\n\n".into(),
        };
        let wrapped = anyhow::Error::new(denied).context("provisioning host web01 failed");
        let e: &(dyn Error + 'static) = wrapped.as_ref();
        assert_eq!(exit_code(e), exit::DENIED);
        assert_eq!(
            message(e),
            "provisioning host web01 failed: Vault denied sys/policy/x: permission denied"
        );
        let bug = anyhow::anyhow!("something nobody classified");
        assert_eq!(exit_code(bug.as_ref()), exit::INTERNAL);
    }
}
