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
//! decides; a user or configuration mistake is [`crate::exit::USAGE`] (2); only an
//! error nobody classified is [`crate::exit::INTERNAL`] (1), i.e. a bug.

mod code;
mod failure;
pub(crate) mod text;

#[cfg(test)]
pub(crate) use code::exit_code;
pub(crate) use code::fail;
pub(crate) use failure::{Failure, UsageContext};
pub(crate) use text::{message, one_line, vault_message};

#[cfg(test)]
mod tests;
