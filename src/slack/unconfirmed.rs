//! A message that may or may not be in Slack (its body was sent, no answer
//! came): moved to `unconfirmed/`, logged and counted, never sent again. A
//! duplicate alert is what this prevents; the price is that a post may be lost.

use super::Outbox;
use std::sync::atomic::{AtomicU64, Ordering};

/// Moves a message that may or may not be in Slack out of the queue, says so
/// and counts it: it is never sent again (a duplicate alert is what this
/// prevents; the price is that a post may be lost).
pub(crate) fn set_aside(
    outbox: &Outbox,
    seq: u64,
    label: &str,
    why: &str,
    unconfirmed: &AtomicU64,
    area: &str,
) {
    unconfirmed.fetch_add(1, Ordering::Relaxed);
    crate::metrics::global()
        .slack_unconfirmed
        .with_label_values(&[area])
        .inc();
    match outbox.set_aside(seq) {
        Ok(at) => tracing::error!(
            "message {seq} ({label}) may or may not be in Slack: {why}. It is not sent again (at most one post per message); check the channel, the message is kept in {}",
            at.display()
        ),
        Err(e) => {
            tracing::error!(
                "message {seq} ({label}) may or may not be in Slack: {why}. It is not sent again, but setting it aside failed: {e}; removing it from the outbox"
            );
            let _ = outbox.remove(seq);
            let _ = outbox.clear_in_flight();
        }
    }
}
