//! The exit code of a failure: the first error in its chain that knows its
//! code decides, and [`fail`] logs the message and returns that code.

use super::failure::Failure;
use super::text::message;
use crate::exit;
use std::error::Error;

/// The exit code of a failure: the first error in the chain that knows its code.
pub(crate) fn exit_code(e: &(dyn Error + 'static)) -> u8 {
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
        return Some(e.exit_code());
    }
    None
}

/// Logs `e` by the rule (one ERROR line) and returns its exit code.
pub(crate) fn fail(e: &(dyn Error + 'static)) -> u8 {
    tracing::error!("{}", message(e));
    exit_code(e)
}
