//! Slack delivery, shared by the audit alerts and the insights digests.
//!
//! Producers build a Block Kit payload and push it into an [`Outbox`] (one per
//! destination, under `stateDir`); one [`sender::run_sender`] per outbox posts
//! the oldest message first and deletes it only once Slack took it. So messages
//! survive an agent restart or a Slack outage and arrive once, in order.
//!
//! - [`crate::spec::slack`]: the `slack` object of the spec (`webhookUrlFile`, `timeout`);
//! - [`webhook`]: reading the webhook URL (a secret) and one POST;
//! - [`blocks`]: Slack's documented Block Kit limits and mrkdwn escaping;
//! - [`outbox`]: the persistent queue;
//! - [`sender`]: draining it with `Retry-After` and exponential backoff.

pub mod blocks;
pub mod outbox;
pub mod sender;
mod unconfirmed;
pub mod webhook;

pub use crate::spec::slack::SlackSpec;
pub use outbox::{Message, Outbox};
pub use webhook::{read_webhook_url, SlackError};

/// This host's name, as messages say where they come from.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}
