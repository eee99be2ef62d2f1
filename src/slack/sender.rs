//! Drains one [`Outbox`] into Slack, oldest first: `Retry-After` on 429,
//! exponential backoff on other failures, a payload Slack refuses for good
//! (HTTP 400) is dropped and counted.
//!
//! At most one post per message, as far as Slack allows: a failure is retried
//! only when Slack cannot have the message (no connection, the body never
//! left, 429, an error status answered). Once the body was handed to the
//! connection, the message is recorded as in flight and the sender waits up to
//! `responseTimeout` for the answer; without one (or if the agent stops or dies
//! meanwhile) the message is moved to `unconfirmed/`, logged and counted, and
//! never sent again. The residual risk is a lost post, not a duplicate.

use super::webhook::{backoff, client, post, read_webhook_url, Outcome, Timeouts};
use super::{Outbox, SlackSpec};
use crate::secret::Secret;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Counters of the sender.
#[derive(Debug, Default)]
pub struct SenderCounters {
    pub delivered: AtomicU64,
    pub rejected: AtomicU64,
    pub retries: AtomicU64,
    /// Sent, but Slack's answer never came: maybe posted, not sent again.
    pub unconfirmed: AtomicU64,
}

/// Drains the outbox into Slack until `shutdown` turns true. A POST in flight
/// is finished if the caller's grace allows; if it is aborted after its body
/// was sent, the in-flight marker sets the message aside at the next start
/// (never posted twice). Waits between attempts are not finished.
/// When `final_drain` turns true (the engine has flushed), the sender delivers
/// what is left and returns at the first failure or when the outbox is empty.
///
/// The webhook URL file is read when there is something to send, and again
/// after failures: it may not exist yet at boot (it can itself be a secret this
/// agent renders) or may be rotated. Until it can be read, messages wait.
pub async fn run_sender(
    outbox: Arc<Outbox>,
    spec: SlackSpec,
    notify: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    final_drain: watch::Receiver<bool>,
    counters: Arc<SenderCounters>,
) {
    let timeouts = Timeouts::from(&spec);
    let client = match client(&spec) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot build the HTTP client for Slack: {e}");
            return;
        }
    };
    let mut failures = 0u32;
    // The outbox's area (`audit`, `insights`) labels its metrics.
    let area = outbox
        .dir()
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("unknown")
        .to_string();
    let metrics = crate::metrics::global();
    let mut url: Option<Secret> = None;
    let mut url_failures = 0u32;
    loop {
        let draining = *final_drain.borrow();
        if *shutdown.borrow() && !draining {
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            continue;
        }
        let waiting = match outbox.list() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("Slack outbox {}: {e}", outbox.dir().display());
                Vec::new()
            }
        };
        metrics
            .slack_outbox_depth
            .with_label_values(&[&area])
            .set(waiting.len() as i64);
        if waiting.is_empty() {
            if draining {
                return;
            }
            tokio::select! {
                _ = notify.notified() => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            continue;
        }
        let mut current = match &url {
            Some(u) => u.clone(),
            None => match read_webhook_url(&spec) {
                Ok(u) => {
                    if url_failures > 0 {
                        tracing::info!(
                            "the Slack webhook URL file {} is readable now",
                            spec.webhook_url_file.display()
                        );
                    }
                    url_failures = 0;
                    url = Some(u.clone());
                    u
                }
                Err(e) => {
                    url_failures += 1;
                    if url_failures == 1 || url_failures % 20 == 0 {
                        tracing::error!(
                            "{e}; {} message(s) wait in {}",
                            waiting.len(),
                            outbox.dir().display()
                        );
                    }
                    if draining {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff(url_failures.min(5))) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            },
        };
        let in_flight = outbox.in_flight();
        if in_flight.is_some_and(|m| !waiting.contains(&m)) {
            let _ = outbox.clear_in_flight(); // its outcome was known; only the marker stayed
        }
        for seq in waiting {
            let message = match outbox.read(seq) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!("Slack outbox {}: {e}", outbox.dir().display());
                    break;
                }
            };
            if in_flight == Some(seq) {
                set_aside(
                    &outbox,
                    seq,
                    &message.label,
                    "the agent stopped while waiting for Slack's answer to it",
                    &counters,
                    &area,
                );
                continue;
            }
            loop {
                let draining = *final_drain.borrow();
                if *shutdown.borrow() && !draining {
                    break;
                }
                let on_sent = || {
                    if let Err(e) = outbox.mark_in_flight(seq) {
                        tracing::error!(
                            "Slack outbox {}: cannot record message {seq} as in flight: {e}; if the agent stops before Slack answers, it may be sent again",
                            outbox.dir().display()
                        );
                    }
                };
                let outcome = post(&client, &current, &message.payload, timeouts, on_sent).await;
                if !matches!(outcome, Outcome::Unconfirmed(_)) {
                    // Slack answered (or never got the body): the outcome is known.
                    if let Err(e) = outbox.clear_in_flight() {
                        tracing::error!("Slack outbox {}: {e}", outbox.dir().display());
                    }
                }
                let wait = match outcome {
                    Outcome::Unconfirmed(why) => {
                        set_aside(&outbox, seq, &message.label, &why, &counters, &area);
                        break;
                    }
                    Outcome::Delivered => {
                        failures = 0;
                        counters.delivered.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = outbox.remove(seq) {
                            tracing::error!(
                                "Slack outbox {}: delivered message {seq} but {e}; it may be sent again",
                                outbox.dir().display()
                            );
                        }
                        tracing::info!("message {seq} ({}) delivered to Slack", message.label);
                        break;
                    }
                    Outcome::Rejected(why) => {
                        counters.rejected.fetch_add(1, Ordering::Relaxed);
                        metrics.slack_failures.with_label_values(&[&area]).inc();
                        tracing::error!(
                            "Slack rejected message {seq} ({}) for good: {why}; dropping it",
                            message.label
                        );
                        let _ = outbox.remove(seq);
                        break;
                    }
                    Outcome::RetryAfter(d) => {
                        metrics.slack_failures.with_label_values(&[&area]).inc();
                        tracing::warn!(
                            "Slack rate-limited us; retrying message {seq} in {}s",
                            d.as_secs()
                        );
                        d
                    }
                    Outcome::Failed(why) => {
                        failures += 1;
                        metrics.slack_failures.with_label_values(&[&area]).inc();
                        let d = backoff(failures);
                        tracing::warn!(
                            "cannot deliver message {seq} ({}) to Slack: {why}; retry {failures} in {}ms",
                            message.label,
                            d.as_millis()
                        );
                        if failures % 5 == 0 {
                            // The webhook may have been rotated: read the file again.
                            if let Ok(u) = read_webhook_url(&spec) {
                                current = u.clone();
                                url = Some(u);
                            }
                        }
                        d
                    }
                };
                counters.retries.fetch_add(1, Ordering::Relaxed);
                if draining {
                    return; // shutting down: what is left stays in the outbox
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// Moves a message that may or may not be in Slack out of the queue, says so
/// and counts it: it is never sent again (a duplicate alert is what this
/// prevents; the price is that a post may be lost).
fn set_aside(
    outbox: &Outbox,
    seq: u64,
    label: &str,
    why: &str,
    counters: &SenderCounters,
    area: &str,
) {
    counters.unconfirmed.fetch_add(1, Ordering::Relaxed);
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
