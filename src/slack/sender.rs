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

use super::outbox::Message;
use super::unconfirmed::set_aside;
use super::webhook::{backoff, client, post, read_webhook_url, Outcome, Timeouts};
use super::{Outbox, SlackSpec};
use crate::secret::Secret;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Counters of the sender.
#[derive(Debug, Default)]
pub(crate) struct SenderCounters {
    pub delivered: AtomicU64,
    pub rejected: AtomicU64,
    pub retries: AtomicU64,
    /// Sent, but Slack's answer never came: maybe posted, not sent again.
    pub unconfirmed: AtomicU64,
}

/// Drains the outbox into Slack until `shutdown` is cancelled. A POST in flight
/// is finished if the caller's grace allows; if it is aborted after its body
/// was sent, the in-flight marker sets the message aside at the next start
/// (never posted twice). Waits between attempts are not finished.
/// When `final_drain` is cancelled (the engine has flushed), the sender delivers
/// what is left and returns at the first failure or when the outbox is empty.
///
/// The webhook URL file is read when there is something to send, and again
/// after failures: it may not exist yet at boot (it can itself be a secret this
/// agent renders) or may be rotated. Until it can be read, messages wait.
pub(crate) async fn run_sender(
    outbox: Arc<Outbox>,
    spec: SlackSpec,
    notify: Arc<Notify>,
    shutdown: CancellationToken,
    final_drain: CancellationToken,
    counters: Arc<SenderCounters>,
) {
    let client = match client(&spec) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot build the HTTP client for Slack: {e}");
            return;
        }
    };
    // The outbox's area (`audit`, `insights`) labels its metrics.
    let area = outbox
        .dir()
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("unknown")
        .to_string();
    let mut sender = Sender {
        timeouts: Timeouts::from(&spec),
        outbox,
        spec,
        notify,
        stop: Stop {
            shutdown,
            final_drain,
        },
        counters,
        client,
        area,
        url: None,
        url_failures: 0,
        failures: 0,
    };
    sender.run().await;
}

/// Whether the sender goes on after a pass over the outbox.
#[derive(PartialEq, Eq)]
enum Next {
    GoOn,
    /// Draining at shutdown and something failed: what is left stays in the outbox.
    Return,
}

/// What became of one attempt at a message.
enum Attempt {
    /// Delivered, rejected for good or set aside: on to the next message.
    Done,
    /// Try the same message again after this long.
    Retry(Duration),
}

/// When the sender stops: `shutdown` holds it, `final_drain` lets it deliver
/// what is left once more.
struct Stop {
    shutdown: CancellationToken,
    final_drain: CancellationToken,
}

impl Stop {
    fn draining(&self) -> bool {
        self.final_drain.is_cancelled()
    }

    /// Stopped but not draining: only the final drain may send now.
    fn held(&self) -> bool {
        self.shutdown.is_cancelled() && !self.draining()
    }
}

/// One outbox's sender and what it remembers between attempts.
struct Sender {
    outbox: Arc<Outbox>,
    spec: SlackSpec,
    notify: Arc<Notify>,
    stop: Stop,
    counters: Arc<SenderCounters>,
    client: reqwest::Client,
    timeouts: Timeouts,
    area: String,
    url: Option<Secret>,
    url_failures: u32,
    failures: u32,
}

impl Sender {
    async fn run(&mut self) {
        loop {
            let draining = self.stop.draining();
            if self.stop.held() {
                tokio::select! {
                    _ = self.notify.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                continue;
            }
            let waiting = self.waiting();
            if waiting.is_empty() {
                if draining {
                    return;
                }
                tokio::select! {
                    _ = self.notify.notified() => {}
                    _ = self.stop.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                continue;
            }
            let Some(mut current) = self.webhook_url(waiting.len()) else {
                if draining {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff(self.url_failures.min(5))) => {}
                    _ = self.stop.shutdown.cancelled() => {}
                }
                continue;
            };
            if self.send_all(waiting, &mut current).await == Next::Return {
                return;
            }
        }
    }

    /// The messages waiting, oldest first (and the depth metric set).
    fn waiting(&self) -> Vec<u64> {
        let waiting = match self.outbox.list() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("Slack outbox {}: {e}", self.outbox.dir().display());
                Vec::new()
            }
        };
        crate::metrics::global()
            .slack_outbox_depth
            .with_label_values(&[&self.area])
            .set(waiting.len() as i64);
        waiting
    }

    /// The webhook URL, read from its file the first time (and after a failure
    /// to read it); `None` while it cannot be read.
    fn webhook_url(&mut self, waiting: usize) -> Option<Secret> {
        if let Some(u) = &self.url {
            return Some(u.clone());
        }
        match read_webhook_url(&self.spec) {
            Ok(u) => {
                if self.url_failures > 0 {
                    tracing::info!(
                        "the Slack webhook URL file {} is readable now",
                        self.spec.webhook_url_file.display()
                    );
                }
                self.url_failures = 0;
                self.url = Some(u.clone());
                Some(u)
            }
            Err(e) => {
                self.url_failures += 1;
                if self.url_failures == 1 || self.url_failures % 20 == 0 {
                    tracing::error!(
                        "{e}; {waiting} message(s) wait in {}",
                        self.outbox.dir().display()
                    );
                }
                None
            }
        }
    }

    /// One pass over the waiting messages, in order.
    async fn send_all(&mut self, waiting: Vec<u64>, current: &mut Secret) -> Next {
        let in_flight = self.outbox.in_flight();
        if in_flight.is_some_and(|m| !waiting.contains(&m)) {
            let _ = self.outbox.clear_in_flight(); // its outcome was known; only the marker stayed
        }
        for seq in waiting {
            let message = match self.outbox.read(seq) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!("Slack outbox {}: {e}", self.outbox.dir().display());
                    break;
                }
            };
            if in_flight == Some(seq) {
                let why = "the agent stopped while waiting for Slack's answer to it";
                self.set_aside(seq, &message.label, why);
                continue;
            }
            if self.send_one(seq, &message, current).await == Next::Return {
                return Next::Return;
            }
        }
        Next::GoOn
    }

    /// Posts one message until it is done with, or the sender stops.
    async fn send_one(&mut self, seq: u64, message: &Message, current: &mut Secret) -> Next {
        loop {
            let draining = self.stop.draining();
            if self.stop.held() {
                return Next::GoOn;
            }
            let outbox = &self.outbox;
            let on_sent = || {
                if let Err(e) = outbox.mark_in_flight(seq) {
                    tracing::error!(
                        "Slack outbox {}: cannot record message {seq} as in flight: {e}; if the agent stops before Slack answers, it may be sent again",
                        outbox.dir().display()
                    );
                }
            };
            let outcome = post(
                &self.client,
                current,
                &message.payload,
                self.timeouts,
                on_sent,
            )
            .await;
            if !matches!(outcome, Outcome::Unconfirmed(_)) {
                // Slack answered (or never got the body): the outcome is known.
                if let Err(e) = self.outbox.clear_in_flight() {
                    tracing::error!("Slack outbox {}: {e}", self.outbox.dir().display());
                }
            }
            let wait = match self.outcome(seq, message, outcome, current) {
                Attempt::Done => return Next::GoOn,
                Attempt::Retry(d) => d,
            };
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            if draining {
                return Next::Return; // shutting down: what is left stays in the outbox
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.stop.shutdown.cancelled() => {}
            }
        }
    }

    /// Sets a message that may be in Slack aside (never sent again).
    fn set_aside(&self, seq: u64, label: &str, why: &str) {
        let unconfirmed = &self.counters.unconfirmed;
        set_aside(&self.outbox, seq, label, why, unconfirmed, &self.area);
    }

    /// Records what Slack made of one attempt and says what comes next.
    fn outcome(
        &mut self,
        seq: u64,
        message: &Message,
        outcome: Outcome,
        current: &mut Secret,
    ) -> Attempt {
        let failures = &crate::metrics::global().slack_failures;
        match outcome {
            Outcome::Unconfirmed(why) => {
                self.set_aside(seq, &message.label, &why);
                Attempt::Done
            }
            Outcome::Delivered => {
                self.failures = 0;
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = self.outbox.remove(seq) {
                    tracing::error!(
                        "Slack outbox {}: delivered message {seq} but {e}; it may be sent again",
                        self.outbox.dir().display()
                    );
                }
                tracing::info!("message {seq} ({}) delivered to Slack", message.label);
                Attempt::Done
            }
            Outcome::Rejected(why) => {
                self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                failures.with_label_values(&[&self.area]).inc();
                tracing::error!(
                    "Slack rejected message {seq} ({}) for good: {why}; dropping it",
                    message.label
                );
                let _ = self.outbox.remove(seq);
                Attempt::Done
            }
            Outcome::RetryAfter(d) => {
                failures.with_label_values(&[&self.area]).inc();
                tracing::warn!(
                    "Slack rate-limited us; retrying message {seq} in {}s",
                    d.as_secs()
                );
                Attempt::Retry(d)
            }
            Outcome::Failed(why) => {
                self.failures += 1;
                failures.with_label_values(&[&self.area]).inc();
                let d = backoff(self.failures);
                tracing::warn!(
                    "cannot deliver message {seq} ({}) to Slack: {why}; retry {} in {}ms",
                    message.label,
                    self.failures,
                    d.as_millis()
                );
                if self.failures % 5 == 0 {
                    // The webhook may have been rotated: read the file again.
                    if let Ok(u) = read_webhook_url(&self.spec) {
                        *current = u.clone();
                        self.url = Some(u);
                    }
                }
                Attempt::Retry(d)
            }
        }
    }
}
