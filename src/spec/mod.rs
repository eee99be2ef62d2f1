//! The declarative JSON spec: the contract between the NixOS module and the agent.
//!
//! [`Spec::load`] reads a file, rejects unknown keys, fills in defaults and validates
//! every value; every error names the JSON path and what to write instead. It needs
//! no network, no users and no existing paths, so `vaultkeeper check` can run it at
//! NixOS build time. [`Spec::apply_env`] then applies the Vault CLI's environment
//! overrides (`VAULT_ADDR`, `BAO_ADDR`, ...), which `check` does not.

#[cfg(test)]
mod defaults_file;
mod env;
mod error;
pub mod insights;
pub mod interval;
pub mod metrics;
pub mod mode;
mod path_rules;
mod raw;
pub mod size;
pub mod template;

pub(crate) use error::from_problems as error_from_problems;
pub use error::{Problem, SpecError};

use raw::{RawSecret, RawSpec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where `--spec` points when it is not given.
pub const DEFAULT_SPEC_PATH: &str = "/etc/vaultkeeper/spec.json";
const DEFAULT_STATE_DIR: &str = "/var/lib/vaultkeeper";
/// The base of default output paths (secrets' outputDir, templates' path).
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub vault: VaultSpec,
    pub approle: AppRoleSpec,
    pub state_dir: PathBuf,
    pub refresh_interval: Duration,
    pub restart_randomized_delay: Duration,
    pub secrets: BTreeMap<String, SecretSpec>,
    /// Files rendered from several secrets' keys, see [`crate::template`].
    pub templates: BTreeMap<String, template::TemplateSpec>,
    pub critical_services: Vec<String>,
    pub audit: Option<crate::audit::AuditSpec>,
    /// The `insights` section (digest schedule, release feed), see [`insights`].
    pub insights: insights::InsightsSpec,
    /// The `metrics` section (textfile, loopback endpoint), see [`metrics`].
    pub metrics: metrics::MetricsSpec,
    /// The `chat` section (Slack slash commands), see [`crate::chat::spec`].
    pub chat: Option<crate::chat::ChatSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VaultSpec {
    /// The first address as written (`addresses[0]`).
    pub address: String,
    /// Every address of `vault.address` in the order written (one for a string);
    /// the client rotates the order per host, see [`crate::vault::failover`].
    pub addresses: Vec<String>,
    pub namespace: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub skip_verify: bool,
    pub timeout: Duration,
    /// `vault.maxResponseSize`: the largest Vault answer read, in bytes.
    pub max_response_size: u64,
    /// `"address": null, "addressFrom": "firstBoot"`: the address is the one
    /// bootstrap pinned in `<stateDir>/vault-address` (see [`crate::pin`]);
    /// `addresses` is empty until [`crate::pin::resolve`] fills it.
    pub address_from_first_boot: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppRoleSpec {
    pub mount: String,
    pub role_id_file: PathBuf,
    pub secret_id_file: PathBuf,
    pub wrapped_token_env: Option<String>,
    pub wrapped_token_file: Option<PathBuf>,
    /// `approle.roleName`: the AppRole role bootstrap must get; `None` = the host name.
    pub role_name: Option<String>,
    /// `approle.loginBackoff`: retries after rejected logins stay under the lockout.
    pub login_backoff: crate::daemon::lockout::LoginBackoff,
}

impl AppRoleSpec {
    /// The role this host's credentials must belong to: `approle.roleName`, else
    /// the host name (what `provision --host` is given).
    pub fn expected_role(&self) -> String {
        self.role_name
            .clone()
            .unwrap_or_else(crate::slack::hostname)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvVersion {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    Restart,
    Reload,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretSpec {
    pub name: String,
    pub secret_path: String,
    pub kv_mount: String,
    pub kv_version: KvVersion,
    pub output_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub owner: String,
    pub group: String,
    pub mode: u32,
    pub services: Vec<String>,
    pub restart_trigger: bool,
    pub restart_interval: Duration,
    pub refresh_interval: Duration,
    pub on_change: OnChange,
    pub restart_randomized_delay: Duration,
}

impl Spec {
    /// Where digests and sealed alerts go: `insights.slack`, else `audit.slack`.
    pub fn insights_slack(&self) -> Option<&crate::slack::SlackSpec> {
        self.insights
            .slack
            .as_ref()
            .or_else(|| self.audit.as_ref().and_then(|a| a.slack.as_ref()))
    }

    /// Reads and validates a spec file (no environment overrides).
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let bytes = crate::input::read(path, crate::input::Input::Spec).map_err(|e| {
            let kind = if e.is_not_found() {
                std::io::ErrorKind::NotFound
            } else {
                std::io::ErrorKind::InvalidData
            };
            SpecError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::new(kind, e.reason()),
            }
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SpecError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        })?;
        Spec::from_json(&path.display().to_string(), text)
    }

    /// Parses and validates spec text; `file` only labels the errors.
    pub fn from_json(file: &str, text: &str) -> Result<Spec, SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let raw: RawSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = match e.path().to_string() {
                p if p == "." => "(top level)".to_string(),
                p => p,
            };
            SpecError::Invalid {
                file: file.to_string(),
                path,
                message: clean_serde_message(&e.inner().to_string()),
            }
        })?;
        let mut problems = Vec::new();
        let spec = resolve(raw, &mut problems);
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(error::from_problems(file, problems))
        }
    }

    /// Applies the Vault CLI's environment variables where the spec leaves a
    /// value unset; never the address, never TLS verification (see [`env`]).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), SpecError> {
        env::apply(self, env)
    }

    /// The secrets named on the command line, or all of them when none is named.
    pub fn select(&self, names: &[String]) -> Result<Vec<&SecretSpec>, String> {
        if names.is_empty() {
            return Ok(self.secrets.values().collect());
        }
        names
            .iter()
            .map(|n| {
                self.secrets.get(n).ok_or_else(|| {
                    let known: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
                    format!(
                        "no secret named {n:?} in the spec (known: {})",
                        known.join(", ")
                    )
                })
            })
            .collect()
    }

    /// Things allowed but rarely meant (an execute bit on secret files), one line each.
    pub fn warnings(&self) -> Vec<String> {
        self.secrets
            .values()
            .filter_map(|s| {
                mode::exec_warning(s.mode).map(|w| format!("secrets.{}.mode: {w}", s.name))
            })
            .collect()
    }

    pub fn is_critical(&self, service: &str) -> bool {
        let unit = unit_name(service);
        self.critical_services.iter().any(|c| unit_name(c) == unit)
    }
}

/// `grafana` → `grafana.service`; names with a unit suffix stay as they are.
pub fn unit_name(service: &str) -> String {
    const SUFFIXES: [&str; 11] = [
        ".service",
        ".socket",
        ".target",
        ".timer",
        ".path",
        ".mount",
        ".slice",
        ".scope",
        ".device",
        ".swap",
        ".automount",
    ];
    if SUFFIXES.iter().any(|s| service.ends_with(s)) {
        service.to_string()
    } else {
        format!("{service}.service")
    }
}

/// serde says "unknown field `x`, expected one of ..."; keep it, it is already clear.
fn clean_serde_message(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

pub(crate) fn check_address(addr: &str) -> Result<(), String> {
    match reqwest::Url::parse(addr) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {
            Ok(())
        }
        _ => Err(format!(
            "{addr:?} is not a Vault address; write e.g. \"https://vault.example.org:8200\""
        )),
    }
}

fn login_backoff(
    problems: &mut Vec<Problem>,
    raw: raw::RawLoginBackoff,
) -> crate::daemon::lockout::LoginBackoff {
    let d = crate::daemon::lockout::LoginBackoff::default();
    let at = |k: &str| format!("approle.loginBackoff.{k}");
    let max_failures = raw.max_failures.unwrap_or(d.max_failures);
    if !(1..=100).contains(&max_failures) {
        problems.push(Problem::new(
            at("maxFailures"),
            format!("{max_failures} is not 1..100; keep it under the server's lockout threshold (5 by default), e.g. 3"),
        ));
    }
    let window = duration(problems, &at("window"), raw.window.as_deref(), d.window);
    let retry_interval = duration(
        problems,
        &at("retryInterval"),
        raw.retry_interval.as_deref(),
        d.retry_interval,
    );
    for (k, v) in [("window", window), ("retryInterval", retry_interval)] {
        if v < std::time::Duration::from_secs(1) {
            problems.push(Problem::new(
                at(k),
                "must be at least one second, e.g. \"15m\"",
            ));
        }
    }
    crate::daemon::lockout::LoginBackoff {
        max_failures: max_failures.clamp(1, 100),
        window,
        retry_interval,
    }
}

/// Most addresses `vault.address` may list (a cluster has 3 or 5 nodes).
pub const MAX_ADDRESSES: usize = 16;

fn resolve_addresses(raw: raw::RawAddresses, problems: &mut Vec<Problem>) -> Vec<String> {
    let (list, single) = match raw {
        raw::RawAddresses::One(a) => (vec![a], true),
        raw::RawAddresses::Many(l) => (l, false),
    };
    if list.is_empty() {
        problems.push(Problem::new(
            "vault.address",
            "the list is empty; write one address, or the addresses of the cluster's nodes",
        ));
    }
    if list.len() > MAX_ADDRESSES {
        problems.push(Problem::new(
            "vault.address",
            format!(
                "{} addresses; at most {MAX_ADDRESSES} (the nodes of one cluster)",
                list.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let at = if single {
            "vault.address".to_string()
        } else {
            format!("vault.address[{i}]")
        };
        if let Err(m) = check_address(a) {
            problems.push(Problem::new(at, m));
            continue;
        }
        let a = a.trim_end_matches('/').to_string();
        let origin = crate::vault::http::Origin::parse(&a);
        if out
            .iter()
            .any(|o| crate::vault::http::Origin::parse(o) == origin)
        {
            problems.push(Problem::new(at, format!("{a:?} is listed twice")));
            continue;
        }
        out.push(a);
    }
    out
}

fn max_response_size(problems: &mut Vec<Problem>, raw: Option<raw::RawSize>) -> u64 {
    const MIN: u64 = 64 << 10;
    const MAX: u64 = 1 << 30;
    let size = match raw {
        None => return crate::vault::http::DEFAULT_MAX_RESPONSE_SIZE,
        Some(raw::RawSize::Bytes(n)) => Ok(n),
        Some(raw::RawSize::Text(t)) => size::parse_size(&t),
    };
    match size {
        Ok(n) if (MIN..=MAX).contains(&n) => n,
        Ok(n) => {
            problems.push(Problem::new(
                "vault.maxResponseSize",
                format!("{n} bytes is outside 64KiB..1GiB; the default \"32MiB\" fits any secret"),
            ));
            crate::vault::http::DEFAULT_MAX_RESPONSE_SIZE
        }
        Err(m) => {
            problems.push(Problem::new("vault.maxResponseSize", m));
            crate::vault::http::DEFAULT_MAX_RESPONSE_SIZE
        }
    }
}

pub(crate) fn abs_path(problems: &mut Vec<Problem>, path: &str, value: &str) -> PathBuf {
    let p = PathBuf::from(value);
    if !p.is_absolute() {
        problems.push(Problem::new(path, format!("{value:?} is not an absolute path; write it from the root, e.g. \"/var/lib/vaultkeeper\"")));
    } else if p
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        problems.push(Problem::new(
            path,
            format!("{value:?} contains \"..\"; write the path without it"),
        ));
    } else if p.parent().is_none() {
        problems.push(Problem::new(
            path,
            format!("{value:?} is the root directory; name a directory below it"),
        ));
    }
    p
}

/// A directory vaultkeeper writes (stateDir, outputDir, cacheDir): spelled as
/// [`crate::paths::syntax`] requires.
fn dir_path(problems: &mut Vec<Problem>, path: &str, value: &str) -> PathBuf {
    path_rules::syntax(path, value).unwrap_or_else(|p| {
        problems.push(p);
        PathBuf::from(value)
    })
}

fn duration(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<&str>,
    default: Duration,
) -> Duration {
    match value {
        None => default,
        Some(v) => interval::parse_duration(v).unwrap_or_else(|m| {
            problems.push(Problem::new(path, m));
            default
        }),
    }
}

/// A secret's name becomes `vault-secret-<name>.service` and a directory name.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} cannot name a secret: use letters, digits, '-', '_' and '.', not first '.' or '-' (it becomes the unit vault-secret-<name>.service)"))
    }
}

pub(crate) fn check_account(problems: &mut Vec<Problem>, path: &str, value: &str) {
    if value.is_empty()
        || value.len() > 256
        || value.contains([':', '/', '\0'])
        || value.chars().any(char::is_whitespace)
    {
        problems.push(Problem::new(
            path,
            format!("{value:?} is not a user or group name (or numeric id)"),
        ));
    }
}

/// `addressFrom`'s one value: the address bootstrap pins at the first boot.
pub const ADDRESS_FROM_FIRST_BOOT: &str = "firstBoot";

fn resolve_vault_address(
    raw: Option<raw::RawAddresses>,
    from: Option<&str>,
    problems: &mut Vec<Problem>,
) -> (Vec<String>, bool) {
    match (raw, from) {
        (Some(a), None) => (resolve_addresses(a, problems), false),
        (None, Some(ADDRESS_FROM_FIRST_BOOT)) => (Vec::new(), true),
        (Some(_), Some(_)) => {
            problems.push(Problem::new(
                "vault.addressFrom",
                "is only for a spec without an address: remove it, vault.address says where Vault is",
            ));
            (Vec::new(), false)
        }
        (None, Some(other)) => {
            problems.push(Problem::new(
                "vault.addressFrom",
                format!("{other:?} is not \"{ADDRESS_FROM_FIRST_BOOT}\" (the one value: the address bootstrap pins at the first boot)"),
            ));
            (Vec::new(), false)
        }
        (None, None) => {
            problems.push(Problem::new(
                "vault.address",
                format!("is not set; write the URL of Vault, e.g. \"https://vault.example.org:8200\" (or \"address\": null with \"addressFrom\": \"{ADDRESS_FROM_FIRST_BOOT}\" to pin the VAULT_ADDR bootstrap finds at the first boot)"),
            ));
            (Vec::new(), false)
        }
    }
}

fn resolve(raw: RawSpec, problems: &mut Vec<Problem>) -> Spec {
    let (addresses, address_from_first_boot) = resolve_vault_address(
        raw.vault.address,
        raw.vault.address_from.as_deref(),
        problems,
    );
    let timeout = duration(
        problems,
        "vault.timeout",
        raw.vault.timeout.as_deref(),
        Duration::from_secs(10),
    );
    if timeout.is_zero() {
        problems.push(Problem::new(
            "vault.timeout",
            "must be longer than zero, e.g. \"10s\"",
        ));
    }
    let vault = VaultSpec {
        address: addresses.first().cloned().unwrap_or_default(),
        addresses,
        namespace: raw.vault.namespace.filter(|s| !s.is_empty()),
        ca_cert: raw
            .vault
            .ca_cert
            .as_deref()
            .map(|c| abs_path(problems, "vault.caCert", c)),
        skip_verify: raw.vault.skip_verify,
        timeout,
        max_response_size: max_response_size(problems, raw.vault.max_response_size),
        address_from_first_boot,
    };

    let state_dir = dir_path(
        problems,
        "stateDir",
        raw.state_dir.as_deref().unwrap_or(DEFAULT_STATE_DIR),
    );
    path_rules::check_state_dir(&state_dir, problems);

    let a = raw.approle;
    let mount = a.mount.unwrap_or_else(|| "approle".into());
    if mount.is_empty() || mount.starts_with('/') || mount.ends_with('/') {
        problems.push(Problem::new(
            "approle.mount",
            format!("{mount:?} is not a mount path; write e.g. \"approle\""),
        ));
    }
    let role_id_file = match a.role_id_file {
        Some(f) => abs_path(problems, "approle.roleIdFile", &f),
        None => state_dir.join("approle/role-id"),
    };
    let secret_id_file = match a.secret_id_file {
        Some(f) => abs_path(problems, "approle.secretIdFile", &f),
        None => state_dir.join("approle/secret-id"),
    };
    let wrapped_token_env = match a.wrapped_token_env {
        Some(e) if e.is_empty() => None,
        Some(e) => {
            if !e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                problems.push(Problem::new(
                    "approle.wrappedTokenEnv",
                    format!("{e:?} is not an environment variable name"),
                ));
            }
            Some(e)
        }
        None => Some("VAULT_WRAPPED_TOKEN".into()),
    };
    let approle = AppRoleSpec {
        mount,
        role_id_file,
        secret_id_file,
        wrapped_token_env,
        wrapped_token_file: a
            .wrapped_token_file
            .map(|f| abs_path(problems, "approle.wrappedTokenFile", &f)),
        role_name: a.role_name.inspect(|r| {
            if let Err(m) = crate::provision::check_segment(r) {
                problems.push(Problem::new("approle.roleName", m));
            }
        }),
        login_backoff: login_backoff(problems, a.login_backoff.unwrap_or_default()),
    };

    let refresh_interval = duration(
        problems,
        "refreshInterval",
        raw.refresh_interval.as_deref(),
        Duration::from_secs(300),
    );
    if refresh_interval < Duration::from_secs(1) {
        problems.push(Problem::new(
            "refreshInterval",
            "must be at least one second, e.g. \"5m\"",
        ));
    }
    let restart_randomized_delay = duration(
        problems,
        "restartRandomizedDelay",
        raw.restart_randomized_delay.as_deref(),
        Duration::from_secs(3600),
    );

    let mut secrets = BTreeMap::new();
    for (name, s) in raw.secrets {
        let secret = resolve_secret(
            &name,
            s,
            &state_dir,
            refresh_interval,
            restart_randomized_delay,
            problems,
        );
        secrets.insert(name, secret);
    }
    path_rules::check_spec_paths(&state_dir, &approle, &secrets, problems);
    let templates = template::resolve(raw.templates, &secrets, &state_dir, problems);

    for (i, c) in raw.critical_services.iter().enumerate() {
        if c.is_empty() || c.contains('/') || c.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                format!("criticalServices[{i}]"),
                format!("{c:?} is not a unit name"),
            ));
        }
    }

    let audit = raw
        .audit
        .map(|a| crate::audit::spec::resolve(a, true, problems));
    let insights = insights::resolve(raw.insights, problems);
    let metrics = metrics::resolve(raw.metrics, problems);
    if insights.digest.is_some()
        && insights.slack.is_none()
        && audit.as_ref().is_none_or(|a| a.slack.is_none())
    {
        problems.push(Problem::new(
            "insights.digest",
            "a digest is posted to Slack, and no webhook is set: add insights.slack.webhookUrlFile (or audit.slack.webhookUrlFile, which digests share), or set the digest to \"off\"",
        ));
    }

    Spec {
        vault,
        approle,
        state_dir,
        refresh_interval,
        restart_randomized_delay,
        secrets,
        templates,
        critical_services: raw.critical_services,
        audit,
        insights,
        metrics,
        chat: raw.chat.map(|c| crate::chat::spec::resolve(c, problems)),
    }
}

fn resolve_secret(
    name: &str,
    s: RawSecret,
    state_dir: &Path,
    refresh_default: Duration,
    delay_default: Duration,
    problems: &mut Vec<Problem>,
) -> SecretSpec {
    let at = |key: &str| format!("secrets.{name}.{key}");
    if let Err(m) = check_secret_name(name) {
        problems.push(Problem::new(format!("secrets.{name}"), m));
    }
    let secret_path = s.secret_path.trim_matches('/').to_string();
    if secret_path.is_empty()
        || secret_path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        problems.push(Problem::new(at("secretPath"), format!("{:?} is not a KV path; write e.g. \"hosts/web01/nginx\" (no leading mount, no empty or '..' segments)", s.secret_path)));
    }
    let kv_mount = s
        .kv_mount
        .unwrap_or_else(|| "secret".into())
        .trim_matches('/')
        .to_string();
    if kv_mount.is_empty() {
        problems.push(Problem::new(
            at("kvMount"),
            "must name the KV mount, e.g. \"secret\"",
        ));
    }
    let kv_version = match s.kv_version.unwrap_or(2) {
        1 => KvVersion::V1,
        2 => KvVersion::V2,
        v => {
            problems.push(Problem::new(
                at("kvVersion"),
                format!("{v} is not a KV version; write 1 or 2"),
            ));
            KvVersion::V2
        }
    };
    let output_dir = match s.output_dir {
        Some(d) => dir_path(problems, &at("outputDir"), &d),
        None => PathBuf::from(DEFAULT_SECRETS_DIR).join(name),
    };
    let cache_dir = match s.cache_dir {
        Some(d) => dir_path(problems, &at("cacheDir"), &d),
        None => state_dir.join("cache").join(name),
    };
    let owner = s.owner.unwrap_or_else(|| "root".into());
    check_account(problems, &at("owner"), &owner);
    let group = s.group.unwrap_or_else(|| "root".into());
    check_account(problems, &at("group"), &group);
    let mode = match s.mode.as_deref() {
        None => 0o400,
        Some(m) => mode::parse_mode(m).unwrap_or_else(|msg| {
            problems.push(Problem::new(at("mode"), msg));
            0o400
        }),
    };
    if mode & 0o222 != 0 {
        problems.push(Problem::new(
            at("mode"),
            format!(
                "{:04o} lets someone write the secret file; secrets are read-only, e.g. \"0400\"",
                mode
            ),
        ));
    }
    for (i, svc) in s.services.iter().enumerate() {
        if svc.is_empty() || svc.contains('/') || svc.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                format!("secrets.{name}.services[{i}]"),
                format!("{svc:?} is not a unit name"),
            ));
        }
    }
    let restart_interval = match s.restart_interval.as_deref() {
        None => Duration::from_secs(86400),
        Some(v) => interval::parse_restart_interval(v).unwrap_or_else(|m| {
            problems.push(Problem::new(at("restartInterval"), m));
            Duration::from_secs(86400)
        }),
    };
    let refresh_interval = duration(
        problems,
        &at("refreshInterval"),
        s.refresh_interval.as_deref(),
        refresh_default,
    );
    if refresh_interval < Duration::from_secs(1) {
        problems.push(Problem::new(
            at("refreshInterval"),
            "must be at least one second, e.g. \"5m\"",
        ));
    }
    let on_change = parse_on_change(problems, &at("onChange"), s.on_change.as_deref());
    let restart_randomized_delay = duration(
        problems,
        &at("restartRandomizedDelay"),
        s.restart_randomized_delay.as_deref(),
        delay_default,
    );
    SecretSpec {
        name: name.to_string(),
        secret_path,
        kv_mount,
        kv_version,
        output_dir,
        cache_dir,
        owner,
        group,
        mode,
        services: s.services,
        restart_trigger: s.restart_trigger,
        restart_interval,
        refresh_interval,
        on_change,
        restart_randomized_delay,
    }
}

/// `onChange` of a secret or template; `restart` when absent.
pub(crate) fn parse_on_change(
    problems: &mut Vec<Problem>,
    path: &str,
    value: Option<&str>,
) -> OnChange {
    match value {
        None | Some("restart") => OnChange::Restart,
        Some("reload") => OnChange::Reload,
        Some("none") => OnChange::None,
        Some(other) => {
            problems.push(Problem::new(
                path,
                format!("{other:?} is not one of \"restart\", \"reload\", \"none\""),
            ));
            OnChange::Restart
        }
    }
}

#[cfg(test)]
mod tests;
