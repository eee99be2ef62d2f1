//! The spec exactly as JSON writes it (serde), before defaults that depend on other
//! keys are filled in. Unknown keys are rejected everywhere.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSpec {
    pub vault: RawVault,
    #[serde(default)]
    pub approle: RawAppRole,
    pub state_dir: Option<String>,
    pub refresh_interval: Option<String>,
    pub boot_cache_max_age: Option<String>,
    pub restart_randomized_delay: Option<String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, RawSecret>,
    #[serde(default)]
    pub templates: BTreeMap<String, super::template::RawTemplate>,
    #[serde(default)]
    pub critical_services: Vec<String>,
    #[serde(default)]
    pub audit: Option<super::audit::RawAudit>,
    #[serde(default)]
    pub insights: Option<super::insights::RawInsights>,
    #[serde(default)]
    pub metrics: Option<super::metrics::RawMetrics>,
    pub chat: Option<super::chat::RawChat>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawVault {
    /// `null` (or absent) only together with `addressFrom = "firstBoot"`.
    #[serde(default)]
    pub address: Option<RawAddresses>,
    pub address_from: Option<String>,
    pub namespace: Option<String>,
    pub ca_cert: Option<String>,
    #[serde(default)]
    pub skip_verify: bool,
    pub timeout: Option<String>,
    pub max_response_size: Option<RawSize>,
    pub failback: Option<String>,
}

/// A size: bytes as a number, or a string with a unit ("32MiB").
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawSize {
    Bytes(u64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawAppRole {
    pub mount: Option<String>,
    pub role_id_file: Option<String>,
    pub secret_id_file: Option<String>,
    pub wrapped_token_env: Option<String>,
    pub wrapped_token_file: Option<String>,
    pub role_name: Option<String>,
    pub login_backoff: Option<RawLoginBackoff>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawLoginBackoff {
    pub max_failures: Option<u32>,
    pub window: Option<String>,
    pub retry_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSecret {
    pub secret_path: String,
    pub kv_mount: Option<String>,
    pub kv_version: Option<u8>,
    pub output_dir: Option<String>,
    pub cache_dir: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub restart_trigger: bool,
    pub restart_interval: Option<String>,
    pub refresh_interval: Option<String>,
    pub boot_cache_max_age: Option<String>,
    pub on_change: Option<String>,
    pub restart_randomized_delay: Option<String>,
}

/// `vault.address`: one URL, or a list of the nodes of one cluster.
#[derive(Debug)]
pub(super) enum RawAddresses {
    One(String),
    Many(Vec<String>),
}

/// By hand rather than `#[serde(untagged)]`, whose error ("did not match any
/// variant") would not say what is expected.
impl<'de> Deserialize<'de> for RawAddresses {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawAddresses;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a URL string or a list of URL strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawAddresses, E> {
                Ok(RawAddresses::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawAddresses, A::Error> {
                let mut out = Vec::new();
                while let Some(a) = seq.next_element::<String>()? {
                    // Bounded while reading: a hostile spec cannot make a huge list.
                    if out.len() > super::MAX_ADDRESSES {
                        return Err(serde::de::Error::custom(format!(
                            "more than {} addresses; list the nodes of one cluster",
                            super::MAX_ADDRESSES
                        )));
                    }
                    out.push(a);
                }
                Ok(RawAddresses::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}
