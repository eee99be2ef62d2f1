//! The resolved spec: what the agent runs on, every value checked and every
//! default filled in (see [`super::load`] for how a file becomes one).

use super::on_change::OnChange;
use super::{insights, metrics, mode};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where `--spec` points when it is not given.
pub(crate) const DEFAULT_SPEC_PATH: &str = "/etc/vaultkeeper/spec.json";
pub(crate) const DEFAULT_STATE_DIR: &str = "/var/lib/vaultkeeper";
/// The base of default output paths (secrets' outputDir, templates' path).
pub(crate) const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

/// A spec, resolved and checked: every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The `vault` section: where Vault is and how to talk to it.
    pub vault: VaultSpec,
    pub(crate) approle: AppRoleSpec,
    pub(crate) state_dir: PathBuf,
    pub(crate) refresh_interval: Duration,
    /// `bootCacheMaxAge`: see [`SecretSpec::boot_cache_max_age`].
    pub(crate) boot_cache_max_age: Duration,
    pub(crate) restart_randomized_delay: Duration,
    pub(crate) secrets: BTreeMap<String, SecretSpec>,
    /// Files rendered from several secrets' keys, see [`crate::template`].
    pub(crate) templates: BTreeMap<String, super::template::TemplateSpec>,
    pub(crate) critical_services: Vec<String>,
    pub(crate) audit: Option<super::audit::AuditSpec>,
    /// The `insights` section (digest schedule, release feed), see [`insights`].
    pub(crate) insights: insights::InsightsSpec,
    /// The `metrics` section (textfile, loopback endpoint), see [`metrics`].
    pub(crate) metrics: metrics::MetricsSpec,
    /// The `chat` section (Slack slash commands), see [`super::chat`].
    pub(crate) chat: Option<super::chat::ChatSpec>,
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
    /// `vault.failback`: how long after leaving its first address a host tries
    /// it first again (see [`crate::vault::failover`]).
    pub failback: Duration,
    /// `"address": null, "addressFrom": "firstBoot"`: the address is the one
    /// bootstrap pinned in `<stateDir>/vault-address` (see [`crate::pin`]);
    /// `addresses` is empty until [`crate::pin::resolve`] fills it.
    pub address_from_first_boot: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppRoleSpec {
    pub mount: String,
    pub role_id_file: PathBuf,
    pub secret_id_file: PathBuf,
    pub wrapped_token_env: Option<String>,
    pub wrapped_token_file: Option<PathBuf>,
    /// `approle.roleName`: the AppRole role bootstrap must get; `None` = the host name.
    pub role_name: Option<String>,
    /// `approle.loginBackoff`: retries after rejected logins stay under the lockout.
    pub login_backoff: LoginBackoff,
}

impl AppRoleSpec {
    /// The role this host's credentials must belong to: `approle.roleName`, else
    /// the host name (what `provision --host` is given).
    pub(crate) fn expected_role(&self) -> String {
        self.role_name.clone().unwrap_or_else(crate::host::hostname)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The KV secrets engine version of a secret's mount.
pub enum KvVersion {
    /// KV v1: no versions, always read in full.
    V1,
    /// KV v2: versioned; metadata reads tell a change.
    V2,
}

/// One `secrets.<name>` entry, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretSpec {
    /// The secret's name (`secrets.<name>`).
    pub name: String,
    /// `secretPath`: the KV path below the mount.
    pub secret_path: String,
    /// `kvMount`: the KV mount.
    pub kv_mount: String,
    /// `kvVersion`.
    pub kv_version: KvVersion,
    /// `outputDir`: where the files are published.
    pub output_dir: PathBuf,
    /// `cacheDir`: the last-known-good cache.
    pub cache_dir: PathBuf,
    /// `owner` of the files.
    pub owner: String,
    /// `group` of the files.
    pub group: String,
    /// `mode` of the files.
    pub mode: u32,
    /// `services` restarted or reloaded when the secret changes.
    pub services: Vec<String>,
    /// `restartTrigger`: restart the services on a schedule too.
    pub restart_trigger: bool,
    /// `restartInterval`: the schedule.
    pub restart_interval: Duration,
    /// `refreshInterval`: how often the daemon checks the secret.
    pub refresh_interval: Duration,
    /// `bootCacheMaxAge`: `vaultkeeper fetch --boot` renders the secret from its
    /// cache without contacting Vault when Vault confirmed that cache less than
    /// this long ago (zero: always read Vault); see [`crate::boot_cache`].
    pub boot_cache_max_age: Duration,
    /// `onChange`: what happens to the services on a change.
    pub on_change: OnChange,
    /// `restartRandomizedDelay`: the bound of the random delay of scheduled restarts.
    pub restart_randomized_delay: Duration,
}

/// Most addresses `vault.address` may list (a cluster has 3 or 5 nodes).
pub(crate) const MAX_ADDRESSES: usize = 16;

/// `addressFrom`'s one value: the address bootstrap pins at the first boot.
pub(crate) const ADDRESS_FROM_FIRST_BOOT: &str = "firstBoot";

impl Spec {
    /// Where digests and sealed alerts go: `insights.slack`, else `audit.slack`.
    pub fn insights_slack(&self) -> Option<&super::slack::SlackSpec> {
        self.insights
            .slack
            .as_ref()
            .or_else(|| self.audit.as_ref().and_then(|a| a.slack.as_ref()))
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

    /// Whether `service` is one of `criticalServices` (never restarted).
    pub fn is_critical(&self, service: &str) -> bool {
        let unit = unit_name(service);
        self.critical_services.iter().any(|c| unit_name(c) == unit)
    }
}

/// `grafana` → `grafana.service`; names with a unit suffix stay as they are.
pub(crate) fn unit_name(service: &str) -> String {
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

/// `approle.loginBackoff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoginBackoff {
    pub max_failures: u32,
    pub window: Duration,
    pub retry_interval: Duration,
}

impl Default for LoginBackoff {
    fn default() -> Self {
        LoginBackoff {
            max_failures: 3,
            window: Duration::from_secs(15 * 60),
            retry_interval: Duration::from_secs(3600),
        }
    }
}
