//! `vaultkeeper posture`: a 0–100 score from weighted checks. Each finding has
//! its weight, the points it earned, the evidence seen and the fix.
//!
//! score = round(100 × points earned ÷ weight of the checks that were assessed).
//! A check the token may not read is `notAssessed` and a check that does not
//! apply (no AppRole mount, no TLS) is `notApplicable`; neither counts.

mod auth_checks;
pub(crate) mod checks;
mod finding;
mod mount_checks;
pub(crate) mod policy;
mod score;
pub(crate) mod thresholds;
pub(crate) mod tls;

#[cfg(test)]
pub(crate) use finding::Finding;
pub(crate) use finding::Outcome;
pub(crate) use score::{score, Report};

/// Runs every check with the insights token and scores them.
pub(crate) async fn assess(
    client: &crate::vault::VaultClient,
    server: &crate::insights::status::Server,
    timeout: std::time::Duration,
) -> Report {
    let ctx = checks::Ctx {
        client,
        server,
        timeout,
        now: crate::clock::now_unix(),
    };
    score(checks::run_all(&ctx).await, server.address.clone())
}

#[cfg(test)]
mod tests;
