//! The resolved spec: what the agent runs on, every value checked and every
//! default filled in (see [`super::load`] for how a file becomes one).

use super::on_change::OnChange;
use super::{insights, metrics, mode};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where `--spec` points when it is not given.
pub const DEFAULT_SPEC_PATH: &str = "/etc/vaultkeeper/spec.json";
pub(crate) const DEFAULT_STATE_DIR: &str = "/var/lib/vaultkeeper";
/// The base of default output paths (secrets' outputDir, templates' path).
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub vault: VaultSpec,
    pub approle: AppRoleSpec,
    pub state_dir: PathBuf,
    pub refresh_interval: Duration,
    /// `bootCacheMaxAge`: see [`SecretSpec::boot_cache_max_age`].
    pub boot_cache_max_age: Duration,
    pub restart_randomized_delay: Duration,
    pub secrets: BTreeMap<String, SecretSpec>,
    /// Files rendered from several secrets' keys, see [`crate::template`].
    pub templates: BTreeMap<String, super::template::TemplateSpec>,
    pub critical_services: Vec<String>,
    pub audit: Option<super::audit::AuditSpec>,
    /// The `insights` section (digest schedule, release feed), see [`insights`].
    pub insights: insights::InsightsSpec,
    /// The `metrics` section (textfile, loopback endpoint), see [`metrics`].
    pub metrics: metrics::MetricsSpec,
    /// The `chat` section (Slack slash commands), see [`super::chat`].
    pub chat: Option<super::chat::ChatSpec>,
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
pub struct AppRoleSpec {
    pub mount: String,
    pub role_id_file: PathBuf,
    pub secret_id_file: PathBuf,
    pub wrapped_token_env: Option<String>,
    pub wrapped_token_file: Option<PathBuf>,
    /// `approle.roleName`: the AppRole role bootstrap must get; `None` = the host name.
    pub role_name: Option<String>,
    /// `approle.loginBackoff`: retries after rejected logins stay under the lockout.
    pub login_backoff: super::approle::LoginBackoff,
}

impl AppRoleSpec {
    /// The role this host's credentials must belong to: `approle.roleName`, else
    /// the host name (what `provision --host` is given).
    pub fn expected_role(&self) -> String {
        self.role_name.clone().unwrap_or_else(crate::host::hostname)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvVersion {
    V1,
    V2,
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
    /// `bootCacheMaxAge`: `vaultkeeper fetch --boot` renders the secret from its
    /// cache without contacting Vault when Vault confirmed that cache less than
    /// this long ago (zero: always read Vault); see [`crate::boot_cache`].
    pub boot_cache_max_age: Duration,
    pub on_change: OnChange,
    pub restart_randomized_delay: Duration,
}

/// Most addresses `vault.address` may list (a cluster has 3 or 5 nodes).
pub const MAX_ADDRESSES: usize = 16;

/// `addressFrom`'s one value: the address bootstrap pins at the first boot.
pub const ADDRESS_FROM_FIRST_BOOT: &str = "firstBoot";

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
