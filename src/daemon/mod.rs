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
//! STATUS= is one line ([`status`]), e.g. `12 secrets fresh, 1 from cache (vault
//! unreachable for 3m), token ttl 47m, next rotation: grafana in 5h`.

pub mod backoff;
pub mod lockout;
pub mod metrics;
pub mod probe;
pub mod restart;
pub mod schedule;
pub mod status;
pub mod templates;
pub mod token;
pub mod watch;

use crate::fetch::{self, Credentials, Outcome};
use crate::render::Rendered;
use crate::spec::{KvVersion, SecretSpec, Spec, SpecError};
use crate::state;
use crate::systemd::{Notifier, UnitAction};
use crate::vault::approle;
use crate::vault::kv;
use crate::vault::{VaultClient, VaultError};
use backoff::Backoff;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use token::{Plan, TokenAction};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{0}; fix vault.* in the spec")]
    Client(VaultError),
}

/// How long the loop sleeps at most: STATUS stays current and wall-clock
/// schedules are re-read at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// A denied read makes the daemon check its token, at most this often.
const TOKEN_CHECK_EVERY: Duration = Duration::from_secs(10);
/// Events on outputs or config files are handled after this quiet time.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Runs the daemon until `shutdown` resolves.
pub async fn run(
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
    let spec = crate::cli::load_spec(&spec_path)?;
    let spec_bytes = std::fs::read(&spec_path).unwrap_or_default();
    let base = VaultClient::new(&spec.vault).map_err(DaemonError::Client)?;
    let notifier = Notifier::from_env();
    notifier.status("starting: rendering secrets");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let audit = AuditTask::spawn(&spec);
    let chat = crate::chat::server::ChatTask::spawn(&spec);
    let (insights, insights_spec) =
        crate::insights::agent::spawn(Arc::new(spec.clone()), stop_rx.clone());

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
    let _ = stop_tx.send(true);
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

/// The shortest refresh interval of the spec: the probe's backoff cap.
fn shortest_refresh(spec: &Spec) -> Duration {
    spec.secrets
        .values()
        .map(|s| s.refresh_interval)
        .chain(std::iter::once(spec.refresh_interval))
        .min()
        .unwrap_or(spec.refresh_interval)
}

/// The audit listener (socket audit device → rules → Slack), running while the
/// spec has an `audit` section; a reload with another section restarts it.
struct AuditTask {
    spec: crate::audit::AuditSpec,
    /// The listener's live counters, for the metrics.
    stats: crate::audit::StatsHandle,
    stop: tokio::sync::watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
}

impl AuditTask {
    fn spawn(spec: &Spec) -> Option<AuditTask> {
        let audit = spec.audit.clone()?;
        let state_dir = spec.state_dir.clone();
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let shutdown = async move {
            while !*rx.borrow() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        let run = audit.clone();
        crate::metrics::global().audit_listener_started();
        let stats = crate::audit::StatsHandle::default();
        let live = stats.clone();
        let join = tokio::spawn(async move {
            if let Err(e) = crate::audit::serve_with_stats(&run, &state_dir, shutdown, live).await {
                tracing::error!("the audit listener stopped: {e}");
            }
        });
        Some(AuditTask {
            spec: audit,
            stats,
            stop,
            join,
        })
    }

    /// Stops the listener after its final drain (bounded by the Slack timeout).
    async fn stop(self) {
        let _ = self.stop.send(true);
        let grace = self
            .spec
            .slack
            .as_ref()
            .map_or(Duration::ZERO, |s| s.timeout)
            + Duration::from_secs(5);
        let mut join = self.join;
        if tokio::time::timeout(grace, &mut join).await.is_err() {
            join.abort();
        }
    }
}

fn critical_note(spec: &Spec) {
    if !spec.critical_services.is_empty() {
        tracing::info!(
            "criticalServices ({}) are never restarted automatically; a change that concerns them is logged as \"restart needed\"",
            spec.critical_services.join(", ")
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    Pending,
    Fresh,
    /// Rendered at boot from the cache Vault confirmed within
    /// `bootCacheMaxAge` ([`crate::boot_cache`]), not checked with Vault since.
    BootCache,
    FromCache,
    Failed,
}

/// What the daemon knows about one secret.
#[derive(Debug)]
struct Tracked {
    next_check: Instant,
    /// KV v2 version of the data on disk.
    version: Option<u64>,
    /// The policy refuses the metadata endpoint: always read in full.
    metadata_denied: bool,
    health: Health,
    backoff: Backoff,
    verify_at: Option<Instant>,
    /// Taken over from the boot unit's fetch ([`adopt_boot_fetch`]) and not
    /// checked since: the first login does not check it at once.
    adopted: bool,
    /// `Some(confirmed unix time)`: the boot unit rendered it from its confirmed
    /// cache without Vault; the first check is at a random time within the
    /// first refresh interval.
    boot_cache: Option<u64>,
}

impl Tracked {
    fn new() -> Tracked {
        Tracked {
            next_check: Instant::now(),
            version: None,
            metadata_denied: false,
            health: Health::Pending,
            backoff: Backoff::vault(),
            verify_at: None,
            adopted: false,
            boot_cache: None,
        }
    }
}

/// At the daemon's start, a KV v2 secret that `vaultkeeper fetch` (its boot
/// unit) rendered from Vault less than one refresh interval ago, without error,
/// is not read again: the daemon's first pass renders it from the cache the
/// unit just wrote, under the daemon's own spec (a changed mode, owner or key
/// list is applied, with its restarts, exactly as after a read), and asks
/// Vault for the version (a metadata read) at its first jittered refresh. A
/// fleet-wide reboot so costs each host one full read per secret, not two
/// (docs/benchmarks.md). Anything that cannot be rendered from the cache is
/// read from Vault at once.
fn adopt_boot_fetch(secret: &SecretSpec, state_dir: &std::path::Path) -> Option<Tracked> {
    if secret.kv_version != KvVersion::V2 {
        return None;
    }
    let st = state::load(state_dir, &secret.name);
    if st.from_cache_since.is_some() || st.last_error.is_some() {
        return None;
    }
    let now = state::now_unix();
    let recent = |t: u64| {
        now.checked_sub(t)
            .filter(|age| *age < secret.refresh_interval.as_secs())
    };
    if let (Some(age), Some(c)) = (st.boot_cache_since.and_then(recent), &st.confirmed) {
        // Rendered by the boot unit from the cache Vault confirmed within
        // bootCacheMaxAge: adopted like a boot fetch; the first check (a
        // metadata read) comes at a random time within the first interval.
        let version = st.version?;
        tracing::debug!(
            secret = %secret.name,
            version,
            age_s = age,
            "rendered at boot from its confirmed cache: checked within the first refresh interval"
        );
        return Some(Tracked {
            next_check: Instant::now() + secret.refresh_interval.mul_f64(rand::random::<f64>()),
            version: Some(version),
            adopted: true,
            boot_cache: Some(c.at),
            ..Tracked::new()
        });
    }
    let age = recent(st.last_fetch?)?;
    let version = st.version?;
    tracing::debug!(
        secret = %secret.name,
        version,
        age_s = age,
        "fetched by its boot unit moments ago: rendered from its cache, checked at the next refresh"
    );
    Some(Tracked {
        next_check: Instant::now() + secret.refresh_interval,
        version: Some(version),
        adopted: true,
        ..Tracked::new()
    })
}

#[derive(Default)]
struct TokenState {
    /// A client carrying the current token.
    client: Option<VaultClient>,
    login_lease: Duration,
    /// `None` with a client: the token never expires.
    expires: Option<Instant>,
    next: Option<(Instant, TokenAction)>,
    backoff: Option<Backoff>,
    last_login: Option<Instant>,
    /// A read was denied: the token may have been revoked; check it soon.
    suspect: bool,
    last_check: Option<Instant>,
}

impl TokenState {
    fn backoff(&mut self) -> &mut Backoff {
        self.backoff.get_or_insert_with(Backoff::vault)
    }
}

enum Wake {
    Shutdown,
    Hangup,
    Fs(Option<watch::Change>),
    Timer,
}

struct Daemon {
    /// `metrics.textfile` and `metrics.listen` ([`metrics`]).
    metrics: metrics::Publisher,
    spec_path: PathBuf,
    spec: Spec,
    spec_bytes: Vec<u8>,
    notifier: Notifier,
    base: VaultClient,
    /// Records the addresses' state for `status` (`vault::failover`).
    addresses: crate::vault::failover::Recorder,
    creds: Option<Credentials>,
    token: TokenState,
    tracked: BTreeMap<String, Tracked>,
    book: schedule::RotationBook,
    seed: String,
    watcher: Option<watch::Watcher>,
    jobs: mpsc::UnboundedSender<restart::Job>,
    vault_down_since: Option<Instant>,
    /// The one `sys/health` probe while Vault is down ([`probe`]).
    probe: probe::Probe,
    /// Rejected logins, spaced under the AppRole lockout ([`lockout`]).
    login_failures: lockout::LoginFailures,
    spec_check_at: Option<Instant>,
    creds_check_at: Option<Instant>,
    next_watchdog: Option<Instant>,
    next_rotation: Option<(String, u64)>,
    last_status: String,
    audit: Option<AuditTask>,
    templates: templates::Templates,
    /// The insights task ([`crate::insights::agent`]) follows reloads here.
    insights_spec: tokio::sync::watch::Sender<Arc<Spec>>,
    /// The Slack slash-command endpoint ([`crate::chat`]), when the spec has `chat`.
    chat: Option<crate::chat::server::ChatTask>,
}

/// The result of checking one secret.
enum Check {
    /// The metadata says the version on disk is current.
    Same,
    /// A full read was done (`bool`: the metadata endpoint was denied).
    Full(Outcome, bool),
    Unreachable(String),
}

async fn next_change(w: &mut Option<watch::Watcher>) -> Option<watch::Change> {
    match w {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

/// Awaits `fut` while keeping the watchdog fed (long batches against a slow Vault).
async fn drive<F: Future>(notifier: &Notifier, fut: F) -> F::Output {
    let Some(every) = notifier.watchdog_interval() else {
        return fut.await;
    };
    tokio::pin!(fut);
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = tick.tick() => notifier.watchdog(),
        }
    }
}

async fn check_one(
    client: VaultClient,
    secret: SecretSpec,
    known: Option<u64>,
    metadata_denied: bool,
    state_dir: PathBuf,
) -> Check {
    let mut denied = false;
    if secret.kv_version == KvVersion::V2 && !metadata_denied && known.is_some() {
        match kv::current_version(&client, &secret.kv_mount, &secret.secret_path).await {
            Ok(v) if Some(v) == known => return Check::Same,
            Ok(_) => {}
            Err(e) if e.serves_cache() => {
                return Check::Unreachable(fetch::Fallback::of(&e).reason)
            }
            Err(VaultError::PermissionDenied { .. }) => denied = true,
            Err(_) => {}
        }
    }
    let outcome = fetch::fetch_one(&client, &secret, &state_dir).await;
    Check::Full(outcome, denied)
}

/// Re-renders a secret from its cache (the current data), under its lock;
/// `Ok(None)` without cache.
async fn verify_one(secret: SecretSpec, state_dir: PathBuf) -> Result<Option<Rendered>, String> {
    tokio::task::spawn_blocking(move || fetch::render_cached(&secret, &state_dir))
        .await
        .unwrap_or_else(|e| Err(format!("render task failed: {e}")))
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
            let left = due.saturating_sub(state::now_unix());
            consider(Some(now + Duration::from_secs(left)));
        }
        d.max(now)
    }

    fn ping_watchdog(&mut self) {
        if let Some(every) = self.notifier.watchdog_interval() {
            self.notifier.watchdog();
            self.next_watchdog = Some(Instant::now() + every);
        }
    }

    fn ping_watchdog_if_due(&mut self) {
        if self.next_watchdog.is_some_and(|t| t <= Instant::now()) {
            self.ping_watchdog();
        }
    }

    fn watch_config(&mut self) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        let creds = [
            self.spec.approle.role_id_file.as_path(),
            self.spec.approle.secret_id_file.as_path(),
        ];
        let outputs: Vec<(String, PathBuf)> = self
            .spec
            .secrets
            .values()
            .map(|s| (s.name.clone(), s.output_dir.clone()))
            .collect();
        let template_files: Vec<(String, PathBuf)> = self
            .spec
            .templates
            .values()
            .map(|t| (t.name.clone(), t.path.clone()))
            .collect();
        w.watch_config(&self.spec_path, &creds, &outputs, &template_files);
        for s in self.spec.secrets.values() {
            w.watch_generation(&s.name, &s.output_dir);
        }
    }

    fn on_change(&mut self, c: watch::Change) {
        let soon = Instant::now() + DEBOUNCE;
        match c {
            watch::Change::Spec => {
                self.spec_check_at.get_or_insert(soon);
            }
            watch::Change::Credentials => {
                self.creds_check_at.get_or_insert(soon);
            }
            watch::Change::Output(name) => {
                if let Some(t) = self.tracked.get_mut(&name) {
                    t.verify_at.get_or_insert(soon);
                }
            }
            watch::Change::Template(name) => self.templates.file_changed(&name, soon),
        }
    }

    async fn config_checks(&mut self) {
        let now = Instant::now();
        if self.spec_check_at.is_some_and(|t| t <= now) {
            self.spec_check_at = None;
            match std::fs::read(&self.spec_path) {
                Ok(bytes) if bytes != self.spec_bytes => self.reload("the spec file changed").await,
                Ok(_) => {}
                Err(e) => tracing::debug!("spec file not readable right now: {e}"),
            }
        }
        if self.creds_check_at.is_some_and(|t| t <= now) {
            self.creds_check_at = None;
            if let Ok(new) = fetch::read_credentials(&self.spec.approle) {
                let same = self
                    .creds
                    .as_ref()
                    .is_some_and(|c| c.role_id == new.role_id && c.secret_id == new.secret_id);
                if !same && self.login_failures.may_try_now() {
                    tracing::info!("the AppRole credential files changed: logging in again");
                    self.token.backoff().succeed();
                    self.token.next = Some((Instant::now(), TokenAction::Login));
                } else if !same {
                    tracing::warn!(
                        "the AppRole credential files changed, but {} logins were rejected in the last {}: the next attempt waits its turn so the server's AppRole lockout is not reached",
                        self.login_failures.in_window(),
                        status::coarse(self.spec.approle.login_backoff.window)
                    );
                }
            }
        }
    }

    // ---- token ----

    fn vault_down(&mut self, reason: &str) {
        if self.vault_down_since.is_none() {
            tracing::warn!("Vault is unreachable ({reason}); serving the rendered secrets from the cache until it answers again (one sys/health probe at a time meanwhile)");
            self.vault_down_since = Some(Instant::now());
            self.probe.start(rand::random());
        }
    }

    /// While Vault is down: the probe, when due; its answer ends the outage.
    async fn probe_step(&mut self) {
        if self.vault_down_since.is_none() || !self.probe.due() {
            return;
        }
        match drive(&self.notifier, probe::health(&self.base)).await {
            Ok(()) => self.vault_up(),
            Err(reason) => {
                let wait = self.probe.failed(rand::random());
                tracing::debug!(
                    "sys/health probe: {reason}; next in {}",
                    status::coarse(wait)
                );
            }
        }
    }

    fn vault_up(&mut self) {
        if let Some(since) = self.vault_down_since.take() {
            // The server may have restarted and forgotten our token: the next
            // denied read checks it at once.
            self.token.last_check = None;
            tracing::info!(
                "Vault answers again after {}",
                status::coarse(since.elapsed())
            );
            self.probe.stop();
            // What waited for the probe goes now.
            let now = Instant::now();
            for t in self.tracked.values_mut() {
                t.next_check = t.next_check.min(now);
                t.backoff.succeed();
            }
        }
    }

    fn schedule_token(&mut self, plan: Plan) {
        self.token.next = match plan {
            Plan::Never => None,
            Plan::After(d, a) => Some((Instant::now() + d, a)),
        };
    }

    async fn token_step(&mut self) {
        if self.vault_down_since.is_some() {
            return;
        }
        let now = Instant::now();
        if self.token.suspect {
            self.token.suspect = false;
            // At most one check per TOKEN_CHECK_EVERY; a denial right after a
            // check (a token revoked a moment after it was checked) waits for
            // the next slot instead of being forgotten.
            if self.token.client.is_some() {
                let at = self
                    .token
                    .last_check
                    .map_or(now, |t| (t + TOKEN_CHECK_EVERY).max(now));
                match self.token.next {
                    Some((_, TokenAction::Login)) => {}
                    Some((t, TokenAction::Renew)) if t <= at => {}
                    _ => self.token.next = Some((at, TokenAction::Renew)),
                }
            }
        }
        let Some((at, action)) = self.token.next else {
            return;
        };
        if at > now {
            return;
        }
        match action {
            TokenAction::Login => self.login().await,
            TokenAction::Renew => self.renew().await,
        }
    }

    async fn login(&mut self) {
        self.token.last_check = Some(Instant::now());
        let creds = match fetch::read_credentials(&self.spec.approle) {
            Ok(c) => c,
            Err(e) => {
                crate::metrics::global().login_failures.inc();
                let wait = self.token.backoff().fail_random();
                tracing::error!("{e} (retrying in {})", status::coarse(wait));
                self.token.next = Some((Instant::now() + wait, TokenAction::Login));
                return;
            }
        };
        let result = drive(&self.notifier, fetch::login(&self.base, &self.spec, &creds)).await;
        self.creds = Some(creds);
        match result {
            Ok(t) => {
                crate::metrics::global().logins.inc();
                let first = self.token.client.is_none();
                tracing::info!(
                    "logged in with AppRole (token ttl {}, {})",
                    status::coarse(t.lease_duration),
                    if t.renewable {
                        "renewable"
                    } else {
                        "not renewable"
                    }
                );
                let previous = self
                    .token
                    .client
                    .replace(self.base.with_token(t.token.clone()));
                if let Some(old) = previous {
                    // The token this login replaces ends now, not at its TTL.
                    tokio::spawn(async move { crate::vault::approle::release(&old).await });
                }
                self.token.login_lease = t.lease_duration;
                self.token.expires =
                    (!t.lease_duration.is_zero()).then(|| Instant::now() + t.lease_duration);
                self.token.last_login = Some(Instant::now());
                self.token.backoff().succeed();
                if self.login_failures.failing.is_some() {
                    tracing::info!("the AppRole login works again");
                }
                self.login_failures.succeeded();
                state::login_ok(&self.spec.state_dir);
                self.schedule_token(token::after_login(t.lease_duration, t.renewable));
                self.vault_up();
                self.token.last_check = Some(Instant::now());
                // Whatever could not be checked without a token is checked now.
                let now = Instant::now();
                for tr in self.tracked.values_mut() {
                    let serving = matches!(tr.health, Health::Fresh | Health::BootCache);
                    if (first && !tr.adopted) || !serving {
                        tr.next_check = tr.next_check.min(now);
                    }
                }
            }
            Err(e) => {
                crate::metrics::global().login_failures.inc();
                self.token.client = None;
                self.token.expires = None;
                let wait = self.token.backoff().fail_random();
                if let crate::vault::approle::LoginError::Vault(v) = &e {
                    if v.serves_cache() {
                        self.vault_down(&fetch::Fallback::of(v).reason);
                    }
                }
                if let crate::vault::approle::LoginError::Rejected { message, .. } = &e {
                    // Vault counts this one towards the role's lockout.
                    let wait = self.login_failures.rejected(message, rand::random());
                    state::login_rejected(&self.spec.state_dir, message);
                    tracing::error!(
                        "{e}; check the role-id in {} and the secret-id in {} (next attempt in {}, or at once when the credential files change; {} rejected in the last {})",
                        self.spec.approle.role_id_file.display(),
                        self.spec.approle.secret_id_file.display(),
                        status::coarse(wait),
                        self.login_failures.in_window(),
                        status::coarse(self.spec.approle.login_backoff.window),
                    );
                    self.token.next = Some((Instant::now() + wait, TokenAction::Login));
                    return;
                }
                if e.serves_cache() {
                    tracing::warn!("cannot log in: {e} (retrying in {})", status::coarse(wait));
                } else {
                    tracing::error!(
                        "{e}; check the role-id in {} and the secret-id in {} (retrying in {})",
                        self.spec.approle.role_id_file.display(),
                        self.spec.approle.secret_id_file.display(),
                        status::coarse(wait)
                    );
                }
                self.token.next = Some((Instant::now() + wait, TokenAction::Login));
            }
        }
    }

    async fn renew(&mut self) {
        self.token.last_check = Some(Instant::now());
        let Some(client) = self.token.client.clone() else {
            self.token.next = Some((Instant::now(), TokenAction::Login));
            return;
        };
        match drive(&self.notifier, approle::renew_self(&client)).await {
            Ok(t) => {
                tracing::debug!("token renewed (ttl {})", status::coarse(t.lease_duration));
                self.token.expires =
                    (!t.lease_duration.is_zero()).then(|| Instant::now() + t.lease_duration);
                self.token.backoff().succeed();
                self.vault_up();
                self.token.last_check = Some(Instant::now());
                let plan =
                    token::after_renewal(t.lease_duration, t.renewable, self.token.login_lease);
                if matches!(plan, Plan::After(_, TokenAction::Login)) {
                    tracing::info!(
                        "the token's max TTL is near (renewed for only {}): a new login is due before it expires",
                        status::coarse(t.lease_duration)
                    );
                }
                self.schedule_token(plan);
            }
            Err(e) if e.serves_cache() => {
                self.vault_down(&fetch::Fallback::of(&e).reason);
                let wait = self.token.backoff().fail_random();
                let remaining = self.token.expires.map_or(Duration::MAX, |x| {
                    x.saturating_duration_since(Instant::now())
                });
                tracing::warn!(
                    "cannot renew the token: {e} (retrying in {})",
                    status::coarse(wait)
                );
                self.schedule_token(token::after_unreachable_renewal(wait, remaining));
            }
            Err(e) => {
                tracing::warn!("Vault refused to renew the token ({e}): logging in again");
                self.token.client = None;
                // Never a tight loop: a login right after a login waits its backoff.
                let recent = self
                    .token
                    .last_login
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(10));
                let wait = if recent {
                    self.token.backoff().fail_random()
                } else {
                    Duration::ZERO
                };
                self.token.next = Some((Instant::now() + wait, TokenAction::Login));
            }
        }
    }

    // ---- secrets ----

    /// The first pass of the secrets [`adopt_boot_fetch`] took over: rendered
    /// from their cache (no Vault request) and applied like a read that
    /// returned the recorded version; without a usable cache, read now.
    async fn first_pass_from_boot_fetch(&mut self) {
        let adopted: Vec<SecretSpec> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.adopted)
            .filter_map(|(n, _)| self.spec.secrets.get(n).cloned())
            .collect();
        let mut restarts = Vec::new();
        for s in adopted {
            let (version, boot_cache, first_check) = {
                let t = &self.tracked[&s.name];
                (t.version, t.boot_cache, t.next_check)
            };
            match drive(
                &self.notifier,
                verify_one(s.clone(), self.spec.state_dir.clone()),
            )
            .await
            {
                Ok(Some(rendered)) => {
                    let outcome = match boot_cache {
                        Some(at) => Outcome::BootCache {
                            rendered,
                            version,
                            confirmed_age: Duration::from_secs(
                                state::now_unix().saturating_sub(at),
                            ),
                        },
                        None => Outcome::Fresh { rendered, version },
                    };
                    restarts.extend(
                        self.apply(&s.name, Check::Full(outcome, false))
                            .unwrap_or_default(),
                    );
                    if boot_cache.is_some() {
                        // Its first check stays where adoption put it: at a
                        // random time within the first refresh interval.
                        if let Some(t) = self.tracked.get_mut(&s.name) {
                            t.next_check = first_check;
                        }
                    }
                }
                Ok(None) | Err(_) => {
                    let t = self.tracked.get_mut(&s.name).expect("tracked");
                    t.adopted = false;
                    t.version = None;
                    t.next_check = Instant::now();
                }
            }
        }
        self.run_restarts(restarts);
    }

    async fn refresh_due(&mut self) {
        let horizon = Instant::now() + Duration::from_secs(1);
        let mut due: Vec<SecretSpec> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.next_check <= horizon)
            .filter_map(|(n, _)| self.spec.secrets.get(n).cloned())
            .collect();
        // The secrets of one template are checked together: one render, one restart.
        let siblings = templates::siblings(&self.spec, &due);
        due.extend(
            siblings
                .into_iter()
                .filter(|s| self.tracked.contains_key(&s.name)),
        );
        if due.is_empty() {
            let jobs = self.templates.render_dirty(&self.spec).await;
            self.run_restarts(jobs);
            return;
        }
        let state_dir = self.spec.state_dir.clone();
        let client = match &self.token.client {
            Some(c) if self.vault_down_since.is_none() => Some(c.clone()),
            _ => None,
        };
        let Some(client) = client else {
            // No token: render what has never been rendered from the cache, and
            // look again at the refresh interval (a login re-schedules at once).
            let reason = match self.vault_down_since {
                Some(_) => "Vault is unreachable".to_string(),
                None => "no Vault token (the AppRole login fails)".to_string(),
            };
            let pending: Vec<SecretSpec> = due
                .iter()
                .filter(|s| self.tracked[&s.name].health == Health::Pending)
                .cloned()
                .collect();
            let fut = futures::stream::iter(pending.into_iter().map(|s| {
                let sd = state_dir.clone();
                let reason = reason.clone();
                async move {
                    let name = s.name.clone();
                    let fallback = fetch::Fallback {
                        reason,
                        code: crate::exit::UNREACHABLE,
                    };
                    (name, fetch::from_cache(s, fallback, sd).await)
                }
            }))
            .buffer_unordered(fetch::CONCURRENCY)
            .collect::<Vec<_>>();
            let mut restarts = Vec::new();
            for (name, outcome) in drive(&self.notifier, fut).await {
                restarts.extend(
                    self.apply(&name, Check::Full(outcome, false))
                        .unwrap_or_default(),
                );
            }
            restarts.extend(self.templates.render_dirty(&self.spec).await);
            self.run_restarts(restarts);
            for s in &due {
                let t = self.tracked.get_mut(&s.name).expect("tracked");
                t.next_check =
                    Instant::now() + schedule::refresh_delay(s.refresh_interval, rand::random());
                if matches!(t.health, Health::Fresh | Health::BootCache) {
                    t.health = Health::FromCache;
                    crate::metrics::global().secret_still_cached(&s.name);
                }
            }
            return;
        };
        // One secret first: when Vault has just gone away, that one failure is
        // the only request before the probe takes over.
        if due.len() > 1 {
            let first = due.remove(0);
            let t = &self.tracked[&first.name];
            let (known, denied) = (t.version, t.metadata_denied);
            let name = first.name.clone();
            let check = drive(
                &self.notifier,
                check_one(client.clone(), first, known, denied, state_dir.clone()),
            )
            .await;
            let jobs = self.apply(&name, check);
            self.run_restarts(jobs.unwrap_or_default());
            if self.vault_down_since.is_some() {
                return;
            }
        }
        let jobs: Vec<_> = due
            .into_iter()
            .map(|s| {
                let t = &self.tracked[&s.name];
                let (known, denied) = (t.version, t.metadata_denied);
                let (c, sd) = (client.clone(), state_dir.clone());
                async move {
                    let name = s.name.clone();
                    (name, check_one(c, s, known, denied, sd).await)
                }
            })
            .collect();
        let fut = futures::stream::iter(jobs)
            .buffer_unordered(fetch::CONCURRENCY)
            .collect::<Vec<_>>();
        let mut results = drive(&self.notifier, fut).await;
        results.sort_by(|a, b| a.0.cmp(&b.0));
        let mut restarts = Vec::new();
        for (name, check) in results {
            if let Some(jobs) = self.apply(&name, check) {
                restarts.extend(jobs);
            }
        }
        restarts.extend(self.templates.render_dirty(&self.spec).await);
        self.run_restarts(restarts);
    }

    /// Records a check's result; returns the restarts a change asks for.
    fn apply(&mut self, name: &str, check: Check) -> Option<Vec<restart::Job>> {
        let secret = self.spec.secrets.get(name)?.clone();
        let mut jobs = None;
        let mut failed = false;
        match check {
            Check::Same => {
                self.vault_up();
                let t = self.tracked.get_mut(name)?;
                if !matches!(t.health, Health::Fresh | Health::BootCache) {
                    // Back from the cache with the same data: the status record says so.
                    let mut st = state::load(&self.spec.state_dir, name);
                    st.last_fetch = Some(state::now_unix());
                    state::save(&self.spec.state_dir, name, &st);
                }
                // Vault confirmed the cached version: a reboot within
                // bootCacheMaxAge may render it without Vault.
                crate::boot_cache::confirm_current(&secret, &self.spec.state_dir, t.version);
                if t.health == Health::BootCache {
                    tracing::info!("secret {name}: Vault confirmed the version rendered at boot from the cache");
                }
                t.health = Health::Fresh;
                crate::metrics::global().secret_fresh(name, state::now_unix());
            }
            Check::Unreachable(reason) => {
                self.vault_down(&reason);
                crate::metrics::global().secret_still_cached(name);
                let t = self.tracked.get_mut(name)?;
                if matches!(t.health, Health::Fresh | Health::BootCache) {
                    t.health = Health::FromCache;
                    let mut st = state::load(&self.spec.state_dir, name);
                    st.from_cache_since.get_or_insert(state::now_unix());
                    st.last_error = Some(reason);
                    state::save(&self.spec.state_dir, name, &st);
                }
            }
            Check::Full(Outcome::BootCache { .. }, _) if !self.tracked.get(name)?.adopted => {
                // Only adoption (the first pass) renders from the boot cache.
                return None;
            }
            Check::Full(
                Outcome::Fresh { rendered, version }
                | Outcome::BootCache {
                    rendered, version, ..
                },
                denied,
            ) => {
                let t = self.tracked.get_mut(name)?;
                let boot_cache = t.boot_cache.filter(|_| t.adopted);
                if boot_cache.is_none() {
                    self.vault_up();
                }
                let t = self.tracked.get_mut(name)?;
                if denied && !t.metadata_denied {
                    tracing::info!("secret {name}: the policy denies its KV metadata; it is checked with full reads from now on");
                    t.metadata_denied = true;
                }
                let first = t.health == Health::Pending;
                t.version = version;
                t.health = if boot_cache.is_some() {
                    Health::BootCache
                } else {
                    Health::Fresh
                };
                let m = crate::metrics::global();
                m.secret_fresh(name, boot_cache.unwrap_or_else(state::now_unix));
                if !first && matches!(rendered, Rendered::Changed { .. }) {
                    m.secret_changed(name);
                }
                if let Rendered::Changed { generation, files } = rendered {
                    tracing::info!(
                        "secret {name}: {}{}: rendered {files} file(s) as generation {generation}",
                        match (first, boot_cache) {
                            (true, Some(_)) =>
                                "taken from the cache Vault confirmed before the boot",
                            (true, None) => "fetched from Vault",
                            (false, _) => "changed from Vault",
                        },
                        version
                            .map(|v| format!(" (version {v})"))
                            .unwrap_or_default()
                    );
                    self.rewatch(&secret);
                    self.templates.secret_changed(&self.spec, name);
                    let (j, critical) = restart::on_change_jobs(&self.spec, &secret);
                    for unit in critical {
                        restart::restart_needed(&unit, name);
                    }
                    jobs = Some(j);
                } else {
                    tracing::debug!("secret {name}: unchanged");
                }
            }
            Check::Full(
                Outcome::FromCache {
                    rendered,
                    age,
                    reason,
                },
                _,
            ) => {
                self.vault_down(&reason);
                crate::metrics::global()
                    .secret_from_cache(name, state::now_unix().saturating_sub(age.as_secs()));
                let t = self.tracked.get_mut(name)?;
                t.health = Health::FromCache;
                if let Rendered::Changed { generation, .. } = rendered {
                    tracing::warn!(
                        "secret {name}: rendered from the last-known-good cache ({} old) as generation {generation}, because {reason}",
                        status::coarse(age)
                    );
                    self.rewatch(&secret);
                    self.templates.secret_changed(&self.spec, name);
                }
            }
            Check::Full(Outcome::Failed(e), _) => {
                let unreachable = match &e {
                    fetch::SecretError::UnreachableNoCache { .. } => true,
                    fetch::SecretError::Vault { source, .. } => source.serves_cache(),
                    _ => false,
                };
                if unreachable {
                    self.vault_down(&e.to_string());
                } else {
                    // Vault answered (a refusal is an answer): it is reachable.
                    self.vault_up();
                }
                let denied = matches!(e, fetch::SecretError::Denied { .. });
                let token_checked = self
                    .token
                    .last_check
                    .is_some_and(|t| t.elapsed() < TOKEN_CHECK_EVERY);
                if denied && !token_checked {
                    // A 403 is also what a revoked or expired token gets (e.g.
                    // OpenBao restarted): check the token first, then read again.
                    tracing::warn!("secret {name}: Vault denied reading it; checking whether the token is still valid");
                    self.token.suspect = true;
                    self.tracked.get_mut(name)?.next_check = Instant::now();
                    return None;
                }
                if denied {
                    // The token was checked moments ago: check it again at
                    // the next slot all the same.
                    self.token.suspect = true;
                }
                tracing::error!("{e}");
                crate::metrics::global().secret_failed(name);
                self.tracked.get_mut(name)?.health = Health::Failed;
                failed = true;
            }
        }
        let t = self.tracked.get_mut(name)?;
        let mut next = schedule::refresh_delay(secret.refresh_interval, rand::random());
        if failed {
            next = next.max(t.backoff.fail_random());
        } else {
            t.backoff.succeed();
        }
        t.next_check = Instant::now() + next;
        t.adopted = false;
        jobs
    }

    fn rewatch(&mut self, secret: &SecretSpec) {
        if let Some(w) = self.watcher.as_mut() {
            w.watch_generation(&secret.name, &secret.output_dir);
        }
    }

    fn run_restarts(&mut self, jobs: Vec<restart::Job>) {
        let jobs = restart::merge(jobs);
        if jobs.is_empty() {
            return;
        }
        let now = state::now_unix();
        for j in jobs {
            // A restart for a change counts for the schedule's window too.
            if j.action == UnitAction::TryRestart && self.book.last.contains_key(&j.unit) {
                self.book.last.insert(j.unit.clone(), now);
            }
            let _ = self.jobs.send(j);
        }
        self.book.save(&self.spec.state_dir);
    }

    async fn verify_due(&mut self) {
        let now = Instant::now();
        let due: Vec<SecretSpec> = self
            .tracked
            .iter_mut()
            .filter(|(_, t)| t.verify_at.is_some_and(|v| v <= now))
            .map(|(n, t)| {
                t.verify_at = None;
                n.clone()
            })
            .filter_map(|n| self.spec.secrets.get(&n).cloned())
            .collect();
        for s in due {
            match drive(
                &self.notifier,
                verify_one(s.clone(), self.spec.state_dir.clone()),
            )
            .await
            {
                Ok(Some(Rendered::Changed { generation, .. })) => {
                    tracing::warn!(
                        "secret {}: its files at {} were deleted or modified by someone else; re-rendered them from the current data as generation {generation}",
                        s.name,
                        s.output_dir.display()
                    );
                    self.rewatch(&s);
                }
                Ok(Some(Rendered::Unchanged)) => self.rewatch(&s),
                Ok(None) => {
                    tracing::warn!(
                        "secret {}: its files at {} changed and there is no cached data to restore them; re-reading it from Vault",
                        s.name,
                        s.output_dir.display()
                    );
                    if let Some(t) = self.tracked.get_mut(&s.name) {
                        t.version = None;
                        t.next_check = now;
                    }
                }
                Err(e) => tracing::error!("secret {}: cannot restore its files: {e}", s.name),
            }
        }
    }

    fn rotation_step(&mut self) {
        let now = state::now_unix();
        let before = self.book.clone();
        let jobs = schedule::rotation_jobs(&self.spec, &mut self.book, &self.seed, now);
        let mut next: Option<(String, u64)> = None;
        for j in jobs {
            if j.due <= now {
                tracing::info!(
                    "scheduled restart of {} (restartTrigger of secret {}, restartInterval {})",
                    j.unit,
                    j.secret,
                    humantime::format_duration(self.spec.secrets[&j.secret].restart_interval)
                );
                self.book.last.insert(j.unit.clone(), now);
                let _ = self.jobs.send(restart::Job {
                    unit: j.unit,
                    action: UnitAction::TryRestart,
                    cause: restart::Cause::Scheduled { secret: j.secret },
                });
            } else if next.as_ref().is_none_or(|(_, d)| j.due < *d) {
                next = Some((j.unit, j.due));
            }
        }
        // Units whose due time just passed get their next window in the next pass.
        if self.book != before {
            self.book.save(&self.spec.state_dir);
            let again = schedule::rotation_jobs(&self.spec, &mut self.book, &self.seed, now);
            next = again
                .into_iter()
                .filter(|j| j.due > now)
                .min_by_key(|j| j.due)
                .map(|j| (j.unit, j.due));
        }
        self.next_rotation = next;
    }

    // ---- status ----

    fn status_line(&self) -> String {
        let mut i = status::StatusInputs::default();
        for t in self.tracked.values() {
            match t.health {
                Health::Fresh => i.fresh += 1,
                Health::BootCache => i.boot_cache += 1,
                Health::FromCache => i.from_cache += 1,
                Health::Failed => i.failed += 1,
                Health::Pending => {}
            }
        }
        i.vault_down_for = self.vault_down_since.map(|t| t.elapsed());
        i.login_failing = self.login_failures.failing.as_ref().map(|(since, reason)| {
            state::LoginStatus {
                failing_since: since
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
                reason: reason.clone(),
            }
            .describe()
        });
        i.token = match (&self.token.client, self.token.expires) {
            (None, _) => status::TokenStatus::None,
            (Some(_), None) => status::TokenStatus::NoExpiry,
            (Some(_), Some(e)) => {
                status::TokenStatus::Ttl(e.saturating_duration_since(Instant::now()))
            }
        };
        i.next_rotation = self.next_rotation.as_ref().map(|(u, due)| {
            (
                u.clone(),
                Duration::from_secs(due.saturating_sub(state::now_unix())),
            )
        });
        status::line(&i)
    }

    fn token_expiry(&self) -> crate::metrics::TokenExpiry {
        use crate::metrics::TokenExpiry;
        match (&self.token.client, self.token.expires) {
            (None, _) => TokenExpiry::None,
            (Some(_), None) => TokenExpiry::Never,
            (Some(_), Some(e)) => TokenExpiry::At(
                state::now_unix() + e.saturating_duration_since(Instant::now()).as_secs(),
            ),
        }
    }

    fn publish_metrics(&mut self) {
        let token = self.token_expiry();
        let audit = self
            .audit
            .as_ref()
            .map(|a| metrics::audit_totals(&a.stats.snapshot()));
        self.metrics.publish(token, audit);
    }

    fn publish_status(&mut self) {
        let line = self.status_line();
        if line != self.last_status {
            tracing::debug!("status: {line}");
            self.notifier.status(&line);
            self.last_status = line;
        }
    }

    // ---- reload ----

    async fn reload(&mut self, why: &str) {
        self.notifier.reloading();
        tracing::info!("reloading the spec {} ({why})", self.spec_path.display());
        let bytes = std::fs::read(&self.spec_path).unwrap_or_default();
        let new = match crate::cli::load_spec(&self.spec_path) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("the new spec is invalid, the one in use is kept: {e}");
                self.spec_bytes = bytes;
                self.ready_again();
                return;
            }
        };
        let mut relogin = false;
        if new.vault != self.spec.vault {
            match VaultClient::new(&new.vault) {
                Ok(c) => {
                    self.base = c;
                    relogin = true;
                }
                Err(e) => {
                    tracing::error!(
                        "the new spec's vault section cannot be used, the spec in use is kept: {e}"
                    );
                    self.spec_bytes = bytes;
                    self.ready_again();
                    return;
                }
            }
        }
        if new.approle != self.spec.approle {
            relogin = true;
        }
        let old = std::mem::replace(&mut self.spec, new);
        self.spec_bytes = bytes;
        self.probe.set_cap(shortest_refresh(&self.spec));
        self.login_failures
            .set_policy(self.spec.approle.login_backoff);
        self.templates.reload(&old, &self.spec);
        if old.state_dir != self.spec.state_dir {
            self.book = schedule::RotationBook::load(&self.spec.state_dir);
        }
        if old.critical_services != self.spec.critical_services {
            critical_note(&self.spec);
        }
        if old.audit != self.spec.audit || old.state_dir != self.spec.state_dir {
            if let Some(a) = self.audit.take() {
                tracing::info!("the audit section changed: restarting the audit listener");
                a.stop().await;
            }
            self.audit = AuditTask::spawn(&self.spec);
        }
        let _ = self.insights_spec.send(Arc::new(self.spec.clone()));
        self.metrics.reconfigure(&self.spec.metrics).await;
        match &self.chat {
            Some(c) if Some(&c.spec) == self.spec.chat.as_ref() => c.update(&self.spec),
            _ => {
                if let Some(c) = self.chat.take() {
                    tracing::info!(
                        "the chat section changed: restarting the Slack command endpoint"
                    );
                    c.stop().await;
                }
                self.chat = crate::chat::server::ChatTask::spawn(&self.spec);
            }
        }
        for name in old.secrets.keys() {
            if !self.spec.secrets.contains_key(name) {
                tracing::info!(
                    "secret {name} is no longer in the spec: it is not managed any more (its files at {} are left in place)",
                    old.secrets[name].output_dir.display()
                );
                self.tracked.remove(name);
                crate::metrics::global().forget_secret(name);
                if let Some(w) = self.watcher.as_mut() {
                    w.forget_generation(name);
                }
            }
        }
        let mut changed = 0;
        for (name, s) in &self.spec.secrets {
            if old.secrets.get(name) != Some(s) {
                changed += 1;
                crate::metrics::global().track_secret(name);
                self.tracked.insert(name.clone(), Tracked::new());
            }
        }
        tracing::info!(
            "spec reloaded: {} secret(s), {changed} new or changed",
            self.spec.secrets.len()
        );
        self.watch_config();
        if relogin {
            self.token = TokenState::default();
            self.login().await;
        }
        self.refresh_due().await;
        self.watch_config();
        self.rotation_step();
        self.ready_again();
    }

    fn ready_again(&mut self) {
        let line = self.status_line();
        self.notifier.ready(&line);
        self.last_status = line;
    }
}
