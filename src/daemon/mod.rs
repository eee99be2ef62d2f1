//! `vaultkeeper run`: the long-running agent, a systemd `Type=notify` service.
//!
//! One loop does all the work (so a wedged loop stops the watchdog pings):
//!
//! 1. Start: load the spec, log in once, render every secret (fresh, or from the
//!    cache when Vault cannot answer), then `READY=1`.
//! 2. Token: renew at 2/3 of the lease, log in again when renewal is refused or
//!    the max TTL is near, back off (capped, jittered) on every failure
//!    ([`token`], [`backoff`]).
//! 3. Refresh: each secret is checked every `refreshInterval` (jittered, never
//!    later): the KV v2 metadata `current_version` when the policy allows it,
//!    else a full read. A change is rendered atomically and its `onChange`
//!    applied to its services ([`restart`]); no change touches nothing.
//! 4. Schedule: `restartTrigger` services are restarted every `restartInterval`
//!    plus a randomized delay, persisted across reboots ([`schedule`]).
//! 5. Self-healing: rendered outputs deleted or modified by someone else are
//!    re-rendered from the cache ([`watch`]).
//! 6. SIGHUP or a change of the spec file: `RELOADING=1`, re-validate, keep the
//!    old spec when the new one is invalid, re-render only what changed, restart
//!    the audit listener when its section changed.
//! 7. Shutdown (the future given to [`run`]): `STOPPING=1`; the work in flight
//!    finishes first (renders are atomic anyway, never a partial file); queued
//!    Slack messages get a moment to leave, the rest waits in the outbox.
//! 8. Beside the loop, in their own tasks: the audit listener ([`crate::audit`]),
//!    the seal checks and Slack digests ([`crate::insights::agent`]) and the
//!    Slack slash-command endpoint ([`crate::chat`]).
//!
//! STATUS= is one line ([`status_line`]), e.g. `12 secrets fresh, 1 from cache (vault
//! unreachable for 3m), token ttl 47m, next rotation: grafana in 5h`.

mod audit_task;
mod core;
mod error;
pub(crate) mod lockout;
pub(crate) mod metrics;
pub(crate) mod probe;
mod publish;
mod refresh;
mod reload;
pub(crate) mod restart;
mod rotation;
pub(crate) mod schedule;
mod secrets;
mod session;
pub(crate) mod status_line;
pub(crate) mod templates;
pub(crate) mod token;
mod tracked;
pub(crate) mod watch;

use self::audit_task::AuditTask;
use self::core::{critical_note, shortest_refresh, Daemon, TokenState, MAX_SLEEP};
pub(crate) use self::error::DaemonError;
use self::tracked::{adopt_boot_fetch, Health, Tracked};
use crate::systemd::Notifier;
use crate::vault::VaultClient;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Runs the daemon until `shutdown` resolves.
pub(crate) async fn run(
    spec_path: PathBuf,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    // SIGHUP's default action would kill the daemon: handle it from the start.
    let hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("cannot handle SIGHUP ({e}); reload by changing the spec file");
            None
        }
    };
    let spec = crate::spec::load_spec(&spec_path)?;
    let spec_bytes = std::fs::read(&spec_path).unwrap_or_default();
    let base = VaultClient::new(&spec.vault).map_err(DaemonError::Client)?;
    let notifier = Notifier::from_env();
    notifier.status("starting: rendering secrets");

    // Cancelled at the end, or when this function returns early (the guard).
    let stop = tokio_util::sync::CancellationToken::new();
    let _stop_on_exit = stop.clone().drop_guard();
    let audit = AuditTask::spawn(&spec);
    let chat = crate::chat::server::ChatTask::spawn(&spec);
    let (insights, insights_spec) =
        crate::insights::agent::spawn(Arc::new(spec.clone()), stop.clone());

    let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(restart::worker(jobs_rx));

    let watcher = match watch::Watcher::new() {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("inotify is unavailable ({e}): spec changes need SIGHUP and deleted outputs are not re-rendered");
            None
        }
    };
    let probe = probe::Probe::new(shortest_refresh(&spec));
    let login_backoff = spec.approle.login_backoff;
    let m = crate::metrics::global();
    for name in spec.secrets.keys() {
        m.track_secret(name);
    }
    let publisher = metrics::Publisher::start(&spec.metrics).await;
    let mut d = Daemon {
        metrics: publisher,
        spec_path,
        spec,
        spec_bytes,
        notifier,
        base,
        addresses: Default::default(),
        creds: None,
        token: TokenState::default(),
        tracked: BTreeMap::new(),
        book: schedule::RotationBook::default(),
        seed: schedule::host_seed(),
        watcher,
        jobs: jobs_tx,
        vault_down_since: None,
        probe,
        login_failures: lockout::LoginFailures::new(login_backoff),
        spec_check_at: None,
        creds_check_at: None,
        next_watchdog: None,
        next_rotation: None,
        last_status: String::new(),
        audit,
        insights_spec,
        templates: templates::Templates::default(),
        chat,
    };
    d.templates = templates::Templates::new(&d.spec);
    d.book = schedule::RotationBook::load(&d.spec.state_dir);
    for (name, secret) in &d.spec.secrets {
        let t = adopt_boot_fetch(secret, &d.spec.state_dir).unwrap_or_else(Tracked::new);
        d.tracked.insert(name.clone(), t);
    }
    d.watch_config();
    critical_note(&d.spec);

    d.login().await;
    d.first_pass_from_boot_fetch().await;
    d.refresh_due().await;
    // Output parents created by the first render can be watched now.
    d.watch_config();
    d.rotation_step();
    let line = d.status_line();
    d.last_status = line.clone();
    d.notifier.ready(&line);
    tracing::info!("ready: {line}");
    d.ping_watchdog();
    d.publish_metrics();

    d.main_loop(shutdown, hup).await;

    d.notifier.stopping();
    tracing::info!("stopping");
    if let Some(c) = d.token.client.take() {
        // A clean stop leaves no live token behind (a crash leaves it to its TTL).
        crate::vault::approle::release(&c).await;
    }
    stop.cancel();
    let audit_totals = d
        .audit
        .as_ref()
        .map(|a| metrics::audit_totals(&a.stats.snapshot()));
    if let Some(a) = d.audit.take() {
        a.stop().await;
    }
    let token = d.token_expiry();
    d.metrics.stop(token, audit_totals).await;
    if let Some(c) = d.chat.take() {
        c.stop().await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(15), insights).await;
    drop(d);
    // Restarts in progress are given a moment; systemctl children die with us.
    let _ = tokio::time::timeout(Duration::from_secs(1), worker).await;
    Ok(())
}

enum Wake {
    Shutdown,
    Hangup,
    Fs(Option<watch::Change>),
    Timer,
}

async fn next_change(w: &mut Option<watch::Watcher>) -> Option<watch::Change> {
    match w {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

impl Daemon {
    async fn main_loop(
        &mut self,
        shutdown: impl Future<Output = ()>,
        mut hup: Option<tokio::signal::unix::Signal>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let deadline = self.deadline();
            let wake = tokio::select! {
                biased;
                _ = &mut shutdown => Wake::Shutdown,
                _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => Wake::Hangup,
                c = next_change(&mut self.watcher) => Wake::Fs(c),
                _ = tokio::time::sleep_until(deadline) => Wake::Timer,
            };
            match wake {
                Wake::Shutdown => return,
                Wake::Hangup => self.reload("SIGHUP").await,
                Wake::Fs(None) => {
                    self.watcher = None;
                }
                Wake::Fs(Some(c)) => self.on_change(c),
                Wake::Timer => {}
            }
            self.ping_watchdog_if_due();
            self.config_checks().await;
            self.probe_step().await;
            self.token_step().await;
            self.refresh_due().await;
            self.verify_due().await;
            self.templates.verify_due(&self.spec).await;
            self.rotation_step();
            self.publish_status();
            self.publish_metrics();
            self.addresses
                .record(&self.spec.state_dir, self.base.endpoints());
        }
    }

    fn deadline(&self) -> Instant {
        let now = Instant::now();
        let mut d = now + MAX_SLEEP;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                d = d.min(t);
            }
        };
        let down = self.vault_down_since.is_some();
        if down {
            // Only the probe talks to Vault: token actions and checks wait for it.
            consider(self.probe.next);
        } else {
            consider(self.token.next.map(|(t, _)| t));
        }
        consider(self.next_watchdog);
        consider(self.spec_check_at);
        consider(self.creds_check_at);
        consider(self.templates.next_verify());
        for t in self.tracked.values() {
            if !down || t.health == Health::Pending {
                consider(Some(t.next_check));
            }
            consider(t.verify_at);
        }
        if let Some((_, due)) = &self.next_rotation {
            let left = due.saturating_sub(crate::clock::now_unix());
            consider(Some(now + Duration::from_secs(left)));
        }
        d.max(now)
    }
}
