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

pub(crate) mod blocks;
pub(crate) mod outbox;
pub(crate) mod sender;
mod unconfirmed;
pub(crate) mod webhook;

pub(crate) use crate::spec::slack::SlackSpec;
pub(crate) use outbox::{Message, Outbox};
pub(crate) use webhook::read_webhook_url;
