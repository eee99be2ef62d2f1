//! The daemon side of insights, a task beside `vaultkeeper run`'s main loop:
//!
//! - every `insights.sealCheckInterval` it reads `sys/seal-status` (no token)
//!   and tells Slack at once when the server turns sealed, and again when it
//!   is unsealed (`insights.sealedAlert`, default on);
//! - every `insights.digest` it collects the digest (status, posture score and
//!   its change, updates, the lease headline) with the host's AppRole and
//!   queues it. The time of the last digest is kept in `stateDir`, so a restart
//!   neither repeats nor skips one. When nothing can be collected (Vault down,
//!   login refused) it retries every [`DIGEST_RETRY`] and, after
//!   [`DIGEST_GIVE_UP`], sends a short digest saying why.
//!
//! Messages go through a persistent [`Outbox`] at `<stateDir>/insights/outbox`
//! to `insights.slack` (else `audit.slack`). Without a webhook the task idles
//! until a reload brings one. Nothing here can slow the main loop down: it
//! only shares the spec, through a watch channel.

use super::digest::{self, SealChange, SealWatch};
use crate::slack::sender::{run_sender, SenderCounters};
use crate::slack::{Message, Outbox, SlackSpec};
use crate::spec::{Spec, VaultSpec};
use crate::vault::VaultClient;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A digest that could not be collected is tried again after this.
pub(crate) const DIGEST_RETRY: Duration = Duration::from_secs(300);
/// After failing this long, a short digest says why instead.
pub(crate) const DIGEST_GIVE_UP: Duration = Duration::from_secs(1800);
/// The task re-reads its schedule at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// What to do after a digest could not be collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    /// Try again at this many seconds since the epoch.
    RetryAt(u64),
    /// Failing for [`DIGEST_GIVE_UP`] already: send the failure digest now.
    Report,
}

/// `first_failure` and `now` are Unix seconds.
pub(crate) fn after_failure(first_failure: u64, now: u64) -> AfterFailure {
    if now.saturating_sub(first_failure) >= DIGEST_GIVE_UP.as_secs() {
        AfterFailure::Report
    } else {
        AfterFailure::RetryAt(now + DIGEST_RETRY.as_secs())
    }
}

/// Starts the task; send a new spec on reload, cancel `shutdown` to stop it
/// (it then gives queued messages a moment to leave).
pub(crate) fn spawn(
    spec: Arc<Spec>,
    shutdown: CancellationToken,
) -> (JoinHandle<()>, watch::Sender<Arc<Spec>>) {
    let (tx, rx) = watch::channel(spec);
    (tokio::spawn(run(rx, shutdown)), tx)
}

/// The outbox and its sender for one destination.
struct Delivery {
    slack: SlackSpec,
    state_dir: PathBuf,
    outbox: Arc<Outbox>,
    notify: Arc<Notify>,
    stop: tokio_util::sync::CancellationToken,
    drain: tokio_util::sync::CancellationToken,
    sender: JoinHandle<()>,
}

impl Delivery {
    fn start(slack: &SlackSpec, state_dir: &std::path::Path) -> Option<Delivery> {
        if let Err(e) = crate::slack::read_webhook_url(slack) {
            tracing::warn!("insights: {e}; messages wait in the outbox until it can be read");
        }
        let outbox = match Outbox::open(state_dir, "insights") {
            Ok(o) => Arc::new(o),
            Err(e) => {
                tracing::error!("insights: cannot open the Slack outbox: {e}");
                return None;
            }
        };
        let notify = Arc::new(Notify::new());
        let stop = tokio_util::sync::CancellationToken::new();
        let drain = tokio_util::sync::CancellationToken::new();
        let sender = tokio::spawn(run_sender(
            outbox.clone(),
            slack.clone(),
            notify.clone(),
            stop.clone(),
            drain.clone(),
            Arc::new(SenderCounters::default()),
        ));
        Some(Delivery {
            slack: slack.clone(),
            state_dir: state_dir.to_path_buf(),
            outbox,
            notify,
            stop,
            drain,
            sender,
        })
    }

    fn queue(&self, label: &str, payload: serde_json::Value) -> bool {
        let m = Message {
            label: label.into(),
            payload,
        };
        match self.outbox.push(&m) {
            Ok(_) => {
                self.notify.notify_one();
                true
            }
            Err(e) => {
                tracing::error!("insights: cannot queue the {label} message for Slack: {e}");
                false
            }
        }
    }

    /// Lets what is queued leave for a moment; the rest waits in the outbox.
    async fn stop(mut self) {
        self.stop.cancel();
        self.drain.cancel();
        self.notify.notify_one();
        let grace = self.slack.timeout + Duration::from_secs(2);
        if tokio::time::timeout(grace, &mut self.sender).await.is_err() {
            self.sender.abort();
            tracing::warn!(
                "insights: Slack did not take the queued messages in time; they stay in {} for the next start",
                self.outbox.dir().display()
            );
        }
    }
}

struct Agent {
    host: String,
    client: Option<(VaultSpec, VaultClient)>,
    delivery: Option<Delivery>,
    seal: SealWatch,
    next_seal_check: Instant,
    /// Unix seconds of the first failed attempt at the digest now due, and
    /// when to try again.
    digest_failing_since: Option<u64>,
    digest_retry_at: Option<u64>,
}

async fn run(mut spec_rx: watch::Receiver<Arc<Spec>>, shutdown: CancellationToken) {
    let mut a = Agent {
        host: crate::host::hostname(),
        client: None,
        delivery: None,
        seal: SealWatch::default(),
        next_seal_check: Instant::now(),
        digest_failing_since: None,
        digest_retry_at: None,
    };
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let spec = spec_rx.borrow_and_update().clone();
        a.configure(&spec).await;
        let mut wait = MAX_SLEEP;
        if a.delivery.is_some() {
            if spec.insights.sealed_alert {
                if Instant::now() >= a.next_seal_check {
                    a.seal_check().await;
                    a.next_seal_check = Instant::now() + spec.insights.seal_check_interval;
                }
                wait = wait.min(a.next_seal_check.saturating_duration_since(Instant::now()));
            }
            if let Some(every) = spec.insights.digest {
                let due_in = a.digest_due_in(&spec, every);
                if due_in.is_zero() {
                    tokio::select! {
                        _ = a.digest(&spec) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    wait = Duration::ZERO;
                } else {
                    wait = wait.min(due_in);
                }
            }
        }
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            r = spec_rx.changed() => if r.is_err() { break },
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    if let Some(d) = a.delivery.take() {
        d.stop().await;
    }
}

impl Agent {
    /// Follows the spec: a client for `vault`, a sender for the webhook.
    async fn configure(&mut self, spec: &Spec) {
        if self.client.as_ref().is_none_or(|(v, _)| *v != spec.vault) {
            self.client = VaultClient::new(&spec.vault)
                .map_err(|e| tracing::error!("insights: {e}"))
                .ok()
                .map(|c| (spec.vault.clone(), c));
        }
        let want = spec
            .insights_slack()
            .filter(|_| spec.insights.digest.is_some() || spec.insights.sealed_alert);
        let same = match (&self.delivery, want) {
            (Some(d), Some(w)) => d.slack == *w && d.state_dir == spec.state_dir,
            (None, None) => true,
            _ => false,
        };
        if !same {
            if let Some(d) = self.delivery.take() {
                d.stop().await;
            }
            self.delivery = want.and_then(|w| Delivery::start(w, &spec.state_dir));
            if self.delivery.is_some() {
                tracing::info!(
                    "insights: {}{} go to Slack",
                    match spec.insights.digest {
                        Some(d) =>
                            format!("a digest every {}", crate::clock::coarse_words(d.as_secs())),
                        None => "no digest".into(),
                    },
                    if spec.insights.sealed_alert {
                        format!(
                            ", seal checks every {}",
                            crate::clock::coarse_words(spec.insights.seal_check_interval.as_secs())
                        )
                    } else {
                        String::new()
                    }
                );
            }
        }
    }

    async fn seal_check(&mut self) {
        let Some((_, client)) = &self.client else {
            return;
        };
        let server = match super::status::server(client).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("insights: seal check: {e}");
                return;
            }
        };
        let payload = match self.seal.observe(server.sealed) {
            None => return,
            Some(SealChange::Sealed) => {
                tracing::error!("Vault at {} is SEALED", server.address);
                digest::sealed_alert_payload(&server, &self.host)
            }
            Some(SealChange::Unsealed { sealed_for }) => {
                tracing::info!("Vault at {} is unsealed again", server.address);
                digest::unsealed_payload(&server, &self.host, sealed_for)
            }
        };
        let label = if server.sealed { "sealed" } else { "unsealed" };
        if let Some(d) = &self.delivery {
            d.queue(label, payload);
        }
    }

    /// Zero when the digest is due now.
    fn digest_due_in(&self, spec: &Spec, every: Duration) -> Duration {
        let now = crate::clock::now_unix();
        if let Some(at) = self.digest_retry_at {
            return Duration::from_secs(at.saturating_sub(now));
        }
        let last = digest::load_last(&spec.state_dir).sent_at;
        if digest::digest_due(last, now, every) {
            Duration::ZERO
        } else {
            Duration::from_secs((last.unwrap_or(now) + every.as_secs()).saturating_sub(now))
        }
    }

    async fn digest(&mut self, spec: &Spec) {
        let Some(d) = &self.delivery else {
            return;
        };
        let no_env = |_: &str| None::<String>;
        let now = crate::clock::now_unix();
        let record = match digest::build(spec, &no_env, &self.host).await {
            Ok(built) => d.queue("digest", built.payload).then_some(built.record),
            Err(e) => {
                let since = *self.digest_failing_since.get_or_insert(now);
                match after_failure(since, now) {
                    AfterFailure::RetryAt(at) => {
                        tracing::warn!(
                            "insights: cannot collect the digest ({e}); trying again in {}",
                            crate::clock::coarse_words(at - now)
                        );
                        self.digest_retry_at = Some(at);
                        return;
                    }
                    AfterFailure::Report => {
                        let payload = digest::failed_digest_payload(
                            &self.host,
                            &spec.vault.address,
                            &e.to_string(),
                        );
                        d.queue("digest", payload).then(|| digest::LastDigest {
                            sent_at: Some(now),
                            ..digest::load_last(&spec.state_dir)
                        })
                    }
                }
            }
        };
        match record {
            Some(r) => {
                self.digest_failing_since = None;
                self.digest_retry_at = None;
                if let Err(e) = digest::save_last(&spec.state_dir, &r) {
                    tracing::warn!("insights: {e}");
                }
                tracing::info!("insights: digest queued for Slack");
            }
            None => self.digest_retry_at = Some(now + DIGEST_RETRY.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests;
