//! `vaultkeeper fetch`: one AppRole login, every selected secret read
//! concurrently, rendered atomically and cached; the cache answers when Vault
//! cannot.

use crate::cache::{self, CacheError};
use crate::exit;
use crate::input::InputError;
use crate::lock::{LockError, SecretLock};
use crate::render::{self, RenderError, Rendered};
use crate::secret::Secret;
use crate::spec::{AppRoleSpec, SecretSpec, Spec};
use crate::state;
use crate::vault::approle::{self, AuthToken, LoginError};
use crate::vault::kv::{self, KvSecret};
use crate::vault::{VaultClient, VaultError};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How many secrets are read from Vault at once.
pub const CONCURRENCY: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("no AppRole {what} at {path}: run `vaultkeeper bootstrap` (first boot) or re-provision this host with `vaultkeeper provision --host NAME`")]
    Missing { what: &'static str, path: PathBuf },
    #[error("AppRole {what} at {path} is refused: {reason}")]
    Refused {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot read AppRole {what} at {path}: {source}")]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("AppRole {what} at {path} is empty: re-run `vaultkeeper bootstrap` with a fresh wrapped token")]
    Empty { what: &'static str, path: PathBuf },
}

/// The role-id and secret-id read from their files.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub role_id: Secret,
    pub secret_id: Secret,
}

/// Reads a credential file with [`crate::input::read`]: no symlink, a regular
/// file of ours, private, at most 4 KiB, UTF-8.
pub(crate) fn read_secret_file(
    what: &'static str,
    path: &Path,
) -> Result<Secret, CredentialsError> {
    let bytes = crate::input::read(path, crate::input::Input::Credential).map_err(|e| match e {
        InputError::NotFound { .. } => CredentialsError::Missing {
            what,
            path: path.to_path_buf(),
        },
        InputError::Refused { reason, .. } => CredentialsError::Refused {
            what,
            path: path.to_path_buf(),
            reason,
        },
        InputError::Io { source, .. } => CredentialsError::Unreadable {
            what,
            path: path.to_path_buf(),
            source,
        },
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| CredentialsError::Refused {
        what,
        path: path.to_path_buf(),
        reason: "it is not UTF-8 text; write the id as bootstrap does".into(),
    })?;
    if text.trim().is_empty() {
        return Err(CredentialsError::Empty {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(Secret::new(text.trim()))
}

pub fn read_credentials(approle: &AppRoleSpec) -> Result<Credentials, CredentialsError> {
    Ok(Credentials {
        role_id: read_secret_file("role-id", &approle.role_id_file)?,
        secret_id: read_secret_file("secret-id", &approle.secret_id_file)?,
    })
}

/// One secret's failure, sorted by what the operator must do.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {secret}: Vault denied reading {path}: {message}; grant the host's policy read on it")]
    Denied {
        secret: String,
        path: String,
        message: String,
    },
    #[error("secret {secret}: {path} does not exist in Vault; write it, or fix secretPath/kvMount/kvVersion in the spec")]
    NotFound { secret: String, path: String },
    #[error(
        "secret {secret}: {reason}; and there is no cache at {cache}; the secret was not rendered"
    )]
    UnreachableNoCache {
        secret: String,
        reason: String,
        cache: PathBuf,
        /// The exit code of why Vault could not answer (unreachable, TLS).
        code: u8,
    },
    #[error("secret {secret}: {source}")]
    Vault {
        secret: String,
        #[source]
        source: VaultError,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl SecretError {
    pub fn exit_code(&self) -> u8 {
        match self {
            SecretError::Denied { .. } => exit::DENIED,
            SecretError::NotFound { .. } => exit::NOT_FOUND,
            SecretError::UnreachableNoCache { code, .. } => *code,
            SecretError::Vault { source, .. } => source.exit_code(),
            SecretError::Render(RenderError::Unsafe { .. }) => exit::USAGE,
            SecretError::Render(_) | SecretError::Cache(_) | SecretError::Lock(_) => exit::RENDER,
        }
    }
}

/// What happened to one secret.
#[derive(Debug)]
pub enum Outcome {
    Fresh {
        rendered: Rendered,
        version: Option<u64>,
    },
    FromCache {
        rendered: Rendered,
        age: Duration,
        reason: String,
    },
    /// Rendered at boot from the cache Vault confirmed `confirmed_age` ago,
    /// without contacting Vault ([`crate::boot_cache`]).
    BootCache {
        rendered: Rendered,
        version: Option<u64>,
        confirmed_age: Duration,
    },
    Failed(SecretError),
}

#[derive(Debug)]
pub struct Report {
    pub outcomes: Vec<(String, Outcome)>,
}

impl Report {
    /// 0 when every secret was rendered (fresh or from the cache), else the code
    /// of the first failing secret in name order.
    pub fn exit_code(&self) -> u8 {
        self.outcomes
            .iter()
            .find_map(|(_, o)| match o {
                Outcome::Failed(e) => Some(e.exit_code()),
                _ => None,
            })
            .unwrap_or(exit::OK)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("{source}; check the role-id in {role_id_file} and the secret-id in {secret_id_file} (an expired secret-id needs `vaultkeeper provision --host NAME` and a new bootstrap)")]
    LoginRejected {
        #[source]
        source: LoginError,
        role_id_file: PathBuf,
        secret_id_file: PathBuf,
    },
    #[error(transparent)]
    Client(VaultError),
    /// The login was answered with something that is neither a token nor a
    /// rejection (a refused redirect, an oversized answer, a malformed one).
    #[error("AppRole login failed: {0}")]
    Login(VaultError),
}

impl FetchError {
    pub fn exit_code(&self) -> u8 {
        match self {
            FetchError::Credentials(_) | FetchError::LoginRejected { .. } => exit::CREDENTIALS,
            FetchError::Client(e) | FetchError::Login(e) => e.exit_code(),
        }
    }
}

/// Why secrets come from the cache this run: the message and its exit code.
#[derive(Debug, Clone)]
pub struct Fallback {
    pub reason: String,
    pub code: u8,
}

impl Fallback {
    /// For a Vault error that [`VaultError::serves_cache`]; a TLS failure is
    /// logged as an ERROR (it may be an attack), once, here.
    pub fn of(e: &VaultError) -> Fallback {
        if e.is_tls() {
            tracing::error!("{e}; serving the last-known-good cache where there is one");
        }
        Fallback {
            reason: e.to_string(),
            code: e.exit_code(),
        }
    }
}

/// Logs in with the host's AppRole credentials.
pub async fn login(
    client: &VaultClient,
    spec: &Spec,
    creds: &Credentials,
) -> Result<AuthToken, LoginError> {
    approle::login(
        client,
        &spec.approle.mount,
        &creds.role_id,
        &creds.secret_id,
    )
    .await
}

/// `vaultkeeper fetch`: renders every selected secret; see [`Report::exit_code`].
pub async fn run(spec: &Spec, secrets: &[&SecretSpec]) -> Result<Report, FetchError> {
    run_with(spec, secrets, crate::lock::DEFAULT_TIMEOUT).await
}

/// [`run`], waiting at most `lock_timeout` for each secret another writer holds.
pub async fn run_with(
    spec: &Spec,
    secrets: &[&SecretSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let client = VaultClient::new(&spec.vault).map_err(FetchError::Client)?;
    read_all(spec, &client, secrets, lock_timeout).await
}

/// `vaultkeeper fetch --boot` (the boot units): [`run_with`] for `secrets` and
/// the `templates` rendered from them after it, except that a secret whose
/// cache Vault confirmed less than `bootCacheMaxAge` ago is rendered from it
/// without contacting Vault ([`crate::boot_cache`]), unless it feeds one of
/// `templates` whose inputs are not all so confirmed. When every secret can,
/// no login is done.
pub async fn run_boot(
    spec: &Spec,
    secrets: &[&SecretSpec],
    templates: &[&crate::template::TemplateSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let client = VaultClient::new(&spec.vault).map_err(FetchError::Client)?;
    let mut from_cache: Vec<&SecretSpec> = secrets
        .iter()
        .copied()
        .filter(
            |s| match crate::boot_cache::decide_now(s, &spec.state_dir) {
                crate::boot_cache::Decision::Render { .. } => true,
                crate::boot_cache::Decision::ReadVault(why) => {
                    tracing::debug!(secret = %s.name, "reading Vault at boot: {why}");
                    false
                }
            },
        )
        .collect();
    for t in templates {
        let inputs = t.secrets();
        if !inputs
            .iter()
            .all(|i| from_cache.iter().any(|s| s.name == *i))
        {
            from_cache.retain(|s| !inputs.contains(&s.name.as_str()));
        }
    }
    let mut report = Report {
        outcomes: Vec::new(),
    };
    let mut to_read: Vec<&SecretSpec> = secrets
        .iter()
        .copied()
        .filter(|s| !from_cache.iter().any(|c| c.name == s.name))
        .collect();
    if !from_cache.is_empty() {
        let names: Vec<String> = from_cache.iter().map(|s| s.name.clone()).collect();
        let (locks, mut refused) = lock_in_order(&spec.state_dir, names, lock_timeout);
        for s in from_cache {
            if refused.iter().any(|(n, _)| *n == s.name) {
                continue;
            }
            match boot_from_cache(s, &spec.state_dir) {
                Some(outcome) => report.outcomes.push((s.name.clone(), outcome)),
                // Changed under our feet (another writer): read it.
                None => to_read.push(s),
            }
        }
        drop(locks);
        report.outcomes.append(&mut refused);
    }
    if !to_read.is_empty() {
        let mut read = read_all(spec, &client, &to_read, lock_timeout).await?;
        report.outcomes.append(&mut read.outcomes);
    }
    report.outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(report)
}

/// Under the secret's lock: renders it from its confirmed cache when
/// [`crate::boot_cache::decide`] still says so with the files on disk now.
fn boot_from_cache(secret: &SecretSpec, state_dir: &Path) -> Option<Outcome> {
    let mut outcome = None;
    let locked = under_lock(secret, state_dir, Locking::Held, || {
        let crate::boot_cache::Decision::Render {
            entry,
            confirmed_age,
        } = crate::boot_cache::decide_now(secret, state_dir)
        else {
            return Ok(());
        };
        let rendered = render::render(secret, &entry.data)?;
        let mut st = state::load(state_dir, &secret.name);
        st.boot_cache_since = Some(state::now_unix());
        state::save(state_dir, &secret.name, &st);
        outcome = Some(Outcome::BootCache {
            rendered,
            version: entry.version,
            confirmed_age,
        });
        Ok(())
    });
    match locked {
        Ok(()) => outcome,
        Err(e) => {
            record_failure(state_dir, &secret.name, &e);
            Some(Outcome::Failed(e))
        }
    }
}

/// Logs in and reads every one of `secrets` from Vault (the cache when Vault
/// cannot answer).
async fn read_all(
    spec: &Spec,
    client: &VaultClient,
    secrets: &[&SecretSpec],
    lock_timeout: Duration,
) -> Result<Report, FetchError> {
    let creds = read_credentials(&spec.approle)?;
    let started = std::time::Instant::now();
    let authed = match login(client, spec, &creds).await {
        Ok(token) => {
            state::login_ok(&spec.state_dir);
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "logged in"
            );
            Ok(client.with_token(token.token))
        }
        Err(LoginError::Vault(e)) if e.serves_cache() => Err(Fallback::of(&e)),
        Err(LoginError::Vault(e)) => return Err(FetchError::Login(e)),
        Err(source) => {
            if let LoginError::Rejected { message, .. } = &source {
                state::login_rejected(&spec.state_dir, message);
            }
            return Err(FetchError::LoginRejected {
                source,
                role_id_file: spec.approle.role_id_file.clone(),
                secret_id_file: spec.approle.secret_id_file.clone(),
            });
        }
    };
    // One writer per secret: take every selected secret's lock, in name order,
    // and hold them until the batch's caches are committed.
    // (Taken on this thread: nothing else runs yet, and no extra thread — with
    // its own malloc arena — is started under a tight address-space limit.)
    let names: Vec<String> = secrets.iter().map(|s| s.name.clone()).collect();
    let (locks, mut refused) = lock_in_order(&spec.state_dir, names, lock_timeout);
    let secrets: Vec<&SecretSpec> = secrets
        .iter()
        .copied()
        .filter(|s| !refused.iter().any(|(n, _)| *n == s.name))
        .collect();
    let batch = CacheSink::batch();
    let mut outcomes = futures::stream::iter(secrets.iter().map(|s| {
        let authed = authed.clone();
        let state_dir = spec.state_dir.clone();
        let batch = batch.clone();
        async move {
            let outcome = match authed {
                Ok(c) => fetch_one_with(&c, s, &state_dir, batch, Locking::Held).await,
                Err(fallback) => {
                    from_cache_with((*s).clone(), fallback, state_dir, Locking::Held).await
                }
            };
            (s.name.clone(), outcome)
        }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    commit_batch(batch, &mut outcomes, &spec.state_dir).await;
    drop(locks);
    outcomes.append(&mut refused);
    if let Ok(c) = &authed {
        approle::release(c).await;
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        secrets = outcomes.len(),
        "all secrets done"
    );
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    crate::vault::failover::save(&spec.state_dir, &client.endpoints().snapshot());
    Ok(Report { outcomes })
}

/// Takes the locks of `names` in name order; a secret whose lock cannot be had
/// in time fails alone (the others go on).
fn lock_in_order(
    state_dir: &Path,
    mut names: Vec<String>,
    timeout: Duration,
) -> (Vec<SecretLock>, Vec<(String, Outcome)>) {
    names.sort();
    names.dedup();
    let (mut locks, mut refused) = (Vec::new(), Vec::new());
    for name in names {
        match SecretLock::acquire_in(state_dir, &name, timeout) {
            Ok(l) => locks.push(l),
            Err(e) => {
                refused.push((name, Outcome::Failed(SecretError::Lock(e))));
            }
        }
    }
    (locks, refused)
}

/// Whether the caller already holds the secret's lock.
#[derive(Debug, Clone, Copy)]
enum Locking {
    /// Held by the caller (`fetch` holds all its secrets' locks).
    Held,
    /// Take it (the daemon: one secret at a time), waiting at most this long.
    Take(Duration),
}

/// Runs `f` as a render of `secret` must run: under the secret's lock (taken
/// here unless `locking` says it is held), after removing the debris earlier
/// renders left in its cacheDir and status directory.
fn under_lock<T>(
    secret: &SecretSpec,
    state_dir: &Path,
    locking: Locking,
    f: impl FnOnce() -> Result<T, SecretError>,
) -> Result<T, SecretError> {
    let _lock = match locking {
        Locking::Held => None,
        Locking::Take(timeout) => Some(SecretLock::acquire_in(state_dir, &secret.name, timeout)?),
    };
    let removed = cache::clean_debris(secret) + state::clean_debris(state_dir, &secret.name);
    if removed > 0 {
        tracing::info!(secret = %secret.name, removed, "removed temporary files a crashed run left behind");
    }
    f()
}

/// Re-renders a secret from its cache, under its lock (the daemon's self-heal);
/// `Ok(None)` without a cache.
pub fn render_cached(secret: &SecretSpec, state_dir: &Path) -> Result<Option<Rendered>, String> {
    under_lock(
        secret,
        state_dir,
        Locking::Take(crate::lock::DEFAULT_TIMEOUT),
        || match cache::load(secret)? {
            None => Ok(None),
            Some(entry) => Ok(Some(render::render(secret, &entry.data)?)),
        },
    )
    .map_err(|e| e.to_string())
}

/// Where a fresh secret's cache goes: written durably at once, or staged for
/// one [`cache::commit`] of many secrets.
#[derive(Clone)]
pub enum CacheSink {
    Durable,
    Batch(std::sync::Arc<std::sync::Mutex<Vec<cache::Staged>>>),
}

impl CacheSink {
    fn batch() -> CacheSink {
        CacheSink::Batch(Default::default())
    }
}

/// Commits the staged caches of a batch; a secret whose cache could not be
/// written fails (its files are rendered, but it would not survive an outage).
async fn commit_batch(sink: CacheSink, outcomes: &mut [(String, Outcome)], state_dir: &Path) {
    let CacheSink::Batch(staged) = sink else {
        return;
    };
    let staged = std::mem::take(&mut *staged.lock().expect("cache batch lock"));
    if staged.is_empty() {
        return;
    }
    let failures = tokio::task::spawn_blocking(move || cache::commit(staged))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    for (name, err) in failures {
        if let Some((_, outcome)) = outcomes.iter_mut().find(|(n, _)| *n == name) {
            let err = SecretError::Cache(err);
            record_failure(state_dir, &name, &err);
            *outcome = Outcome::Failed(err);
        }
    }
}

/// Reads one secret from Vault and renders it, or falls back to the cache when
/// Vault is unreachable. The cache is written durably before it returns.
/// Takes the secret's lock for the render (see [`crate::lock`]).
pub async fn fetch_one(client: &VaultClient, secret: &SecretSpec, state_dir: &Path) -> Outcome {
    let locking = Locking::Take(crate::lock::DEFAULT_TIMEOUT);
    fetch_one_with(client, secret, state_dir, CacheSink::Durable, locking).await
}

async fn fetch_one_with(
    client: &VaultClient,
    secret: &SecretSpec,
    state_dir: &Path,
    sink: CacheSink,
    locking: Locking,
) -> Outcome {
    let api = kv::data_path(&secret.kv_mount, &secret.secret_path, secret.kv_version);
    match kv::read(
        client,
        &secret.kv_mount,
        &secret.secret_path,
        secret.kv_version,
    )
    .await
    {
        Ok(kv) => {
            write_fresh_with(secret.clone(), kv, state_dir.to_path_buf(), sink, locking).await
        }
        Err(e) if e.serves_cache() => {
            from_cache_with(
                secret.clone(),
                Fallback::of(&e),
                state_dir.to_path_buf(),
                locking,
            )
            .await
        }
        Err(e) => {
            let err = match e {
                VaultError::PermissionDenied { message, .. } => SecretError::Denied {
                    secret: secret.name.clone(),
                    path: api,
                    message,
                },
                VaultError::NotFound { .. } => SecretError::NotFound {
                    secret: secret.name.clone(),
                    path: api,
                },
                source => SecretError::Vault {
                    secret: secret.name.clone(),
                    source,
                },
            };
            record_failure(state_dir, &secret.name, &err);
            Outcome::Failed(err)
        }
    }
}

fn record_failure(state_dir: &Path, name: &str, err: &SecretError) {
    let mut st = state::load(state_dir, name);
    st.last_error = Some(err.to_string());
    state::save(state_dir, name, &st);
}

/// Renders fresh data and then caches it (file writes and fsyncs run on the
/// blocking pool so many secrets proceed in parallel).
/// Takes the secret's lock for the render (see [`crate::lock`]).
pub async fn write_fresh(secret: SecretSpec, kv: KvSecret, state_dir: PathBuf) -> Outcome {
    let locking = Locking::Take(crate::lock::DEFAULT_TIMEOUT);
    write_fresh_with(secret, kv, state_dir, CacheSink::Durable, locking).await
}

async fn write_fresh_with(
    secret: SecretSpec,
    kv: KvSecret,
    state_dir: PathBuf,
    sink: CacheSink,
    locking: Locking,
) -> Outcome {
    let job = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let result = under_lock(&secret, &state_dir, locking, || {
            let rendered = render::render(&secret, &kv.data)?;
            let fetched_at = SystemTime::now();
            match &sink {
                CacheSink::Durable => cache::store(&secret, &kv, fetched_at)?,
                CacheSink::Batch(staged) => {
                    let s = cache::stage(&secret, &kv, fetched_at)?;
                    staged.lock().expect("cache batch lock").push(s);
                }
            }
            let now = state::now_unix();
            let st = state::SecretStatus {
                last_fetch: Some(now),
                version: kv.version,
                from_cache_since: None,
                last_error: None,
                // Vault just answered with this data; the cache holds it.
                confirmed: Some(crate::boot_cache::confirmation(
                    &secret,
                    kv.version,
                    cache::unix(fetched_at),
                    now,
                )),
                boot_cache_since: None,
            };
            state::save(&state_dir, &secret.name, &st);
            Ok(rendered)
        });
        tracing::debug!(secret = %secret.name, elapsed_us = started.elapsed().as_micros() as u64, "rendered and cached");
        match result {
            Ok(rendered) => Outcome::Fresh {
                rendered,
                version: kv.version,
            },
            Err(e) => {
                record_failure(&state_dir, &secret.name, &e);
                Outcome::Failed(e)
            }
        }
    });
    job.await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Renders the last-known-good data of a secret, under its lock.
pub async fn from_cache(secret: SecretSpec, fallback: Fallback, state_dir: PathBuf) -> Outcome {
    let locking = Locking::Take(crate::lock::DEFAULT_TIMEOUT);
    from_cache_with(secret, fallback, state_dir, locking).await
}

async fn from_cache_with(
    secret: SecretSpec,
    fallback: Fallback,
    state_dir: PathBuf,
    locking: Locking,
) -> Outcome {
    let job = tokio::task::spawn_blocking(move || {
        let mut outcome = None;
        let locked = under_lock(&secret, &state_dir, locking, || {
            outcome = Some(from_cache_locked(&secret, fallback, &state_dir));
            Ok(())
        });
        match locked {
            Ok(()) => outcome.expect("set under the lock"),
            Err(e) => Outcome::Failed(e),
        }
    });
    job.await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

fn from_cache_locked(secret: &SecretSpec, fallback: Fallback, state_dir: &Path) -> Outcome {
    let Fallback { reason, code } = fallback;
    let secret = secret.clone();
    let state_dir = state_dir.to_path_buf();
    {
        let entry = match cache::load(&secret) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                let e = SecretError::UnreachableNoCache {
                    secret: secret.name.clone(),
                    reason,
                    cache: secret.cache_dir.clone(),
                    code,
                };
                record_failure(&state_dir, &secret.name, &e);
                return Outcome::Failed(e);
            }
            Err(e) => return Outcome::Failed(e.into()),
        };
        match render::render(&secret, &entry.data) {
            Ok(rendered) => {
                let mut st = state::load(&state_dir, &secret.name);
                st.from_cache_since.get_or_insert(state::now_unix());
                st.last_error = Some(reason.clone());
                state::save(&state_dir, &secret.name, &st);
                Outcome::FromCache {
                    rendered,
                    age: entry.age(SystemTime::now()),
                    reason,
                }
            }
            Err(e) => Outcome::Failed(e.into()),
        }
    }
}
