//! `vaultkeeper provision --host NAME`: the operator side. With an admin token it
//! creates or updates the host's policy and AppRole role, generates a secret-id and
//! wraps role-id and secret-id in one single-use token, the only thing printed.
//! Running it again updates the policy and role and issues a new token.

use crate::secret::Secret;
use crate::vault::{wrapping, VaultClient, VaultError};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub approle_mount: String,
    pub kv_mount: String,
    pub kv_version: u8,
    /// Secrets of the host live below `<kv_mount>/<path_prefix>/<host>/`.
    pub path_prefix: String,
    pub token_ttl: String,
    pub token_max_ttl: String,
    pub secret_id_ttl: String,
    pub wrap_ttl: String,
    pub bound_cidrs: Vec<String>,
}

impl Options {
    pub fn policy_name(&self) -> String {
        format!("host-{}", self.host)
    }

    fn base(&self) -> String {
        let prefix = self.path_prefix.trim_matches('/');
        if prefix.is_empty() {
            self.host.clone()
        } else {
            format!("{prefix}/{}", self.host)
        }
    }

    /// Read and list on the host's secrets (and their KV v2 metadata, for the
    /// daemon's cheap change checks), nothing else.
    pub fn policy_hcl(&self) -> String {
        let base = self.base();
        let m = &self.kv_mount;
        if self.kv_version == 1 {
            format!("path \"{m}/{base}/*\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n")
        } else {
            format!(
                "path \"{m}/data/{base}/*\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n\npath \"{m}/metadata/{base}/*\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n"
            )
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        crate::spec::check_secret_name(&self.host).map_err(|_| {
            format!(
                "{:?} is not a host name: use letters, digits, '-', '_' and '.'",
                self.host
            )
        })?;
        for (flag, v) in [
            ("--token-ttl", &self.token_ttl),
            ("--token-max-ttl", &self.token_max_ttl),
            ("--secret-id-ttl", &self.secret_id_ttl),
            ("--wrap-ttl", &self.wrap_ttl),
        ] {
            if v != "0" {
                crate::spec::interval::parse_duration(v).map_err(|e| format!("{flag}: {e}"))?;
            }
        }
        if self.wrap_ttl == "0" {
            return Err("--wrap-ttl: a wrapped token needs a lifetime, e.g. \"24h\"".into());
        }
        if self.kv_version != 1 && self.kv_version != 2 {
            return Err(format!("--kv-version: {} is not 1 or 2", self.kv_version));
        }
        Ok(())
    }

    /// The same policy and role as Terraform (hashicorp/vault provider).
    pub fn terraform(&self) -> String {
        let host = &self.host;
        let res = host.replace(['.', '-'], "_");
        let policy = self.policy_hcl();
        let cidrs = if self.bound_cidrs.is_empty() {
            String::new()
        } else {
            let list = self
                .bound_cidrs
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            format!("  secret_id_bound_cidrs = [{list}]\n  token_bound_cidrs     = [{list}]\n")
        };
        format!(
            "resource \"vault_policy\" \"host_{res}\" {{\n  name   = \"{policy_name}\"\n  policy = <<-EOT\n{policy_indented}  EOT\n}}\n\nresource \"vault_approle_auth_backend_role\" \"{res}\" {{\n  backend        = \"{mount}\"\n  role_name      = \"{host}\"\n  token_policies = [vault_policy.host_{res}.name]\n  token_ttl      = {ttl}\n  token_max_ttl  = {max_ttl}\n  secret_id_ttl  = {sid_ttl}\n{cidrs}}}\n",
            policy_name = self.policy_name(),
            policy_indented = policy.lines().map(|l| format!("    {l}\n")).collect::<String>(),
            mount = self.approle_mount,
            ttl = seconds(&self.token_ttl),
            max_ttl = seconds(&self.token_max_ttl),
            sid_ttl = seconds(&self.secret_id_ttl),
        )
    }
}

fn seconds(v: &str) -> u64 {
    crate::spec::interval::parse_duration(v)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Creates or updates everything and returns the wrapped token.
pub async fn provision(admin: &VaultClient, o: &Options) -> Result<Secret, VaultError> {
    admin
        .write(
            &format!("sys/policies/acl/{}", o.policy_name()),
            &json!({ "policy": o.policy_hcl() }),
        )
        .await?;

    let auths = admin.read("sys/auth").await?;
    let mounted = auths
        .get("data")
        .unwrap_or(&auths)
        .get(format!("{}/", o.approle_mount))
        .is_some();
    if !mounted {
        admin
            .write(
                &format!("sys/auth/{}", o.approle_mount),
                &json!({ "type": "approle" }),
            )
            .await?;
    }

    let role = format!("auth/{}/role/{}", o.approle_mount, o.host);
    admin
        .write(
            &role,
            &json!({
                "token_policies": [o.policy_name()],
                "token_ttl": o.token_ttl,
                "token_max_ttl": o.token_max_ttl,
                "secret_id_ttl": o.secret_id_ttl,
                "secret_id_num_uses": 0,
                "token_type": "service",
                "secret_id_bound_cidrs": o.bound_cidrs,
                "token_bound_cidrs": o.bound_cidrs,
            }),
        )
        .await?;
    let role_id: String = crate::vault::field(
        &admin.read(&format!("{role}/role-id")).await?,
        "/data/role_id",
        &role,
    )?;
    let secret_id: String = crate::vault::field(
        &admin
            .write(&format!("{role}/secret-id"), &json!({}))
            .await?,
        "/data/secret_id",
        &role,
    )?;
    let secret_id = Secret::new(secret_id);
    wrapping::wrap(
        admin,
        &json!({ "role_id": role_id, "secret_id": secret_id.expose() }),
        &o.wrap_ttl,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            host: "web01".into(),
            approle_mount: "approle".into(),
            kv_mount: "secret".into(),
            kv_version: 2,
            path_prefix: "hosts".into(),
            token_ttl: "1h".into(),
            token_max_ttl: "24h".into(),
            secret_id_ttl: "0".into(),
            wrap_ttl: "24h".into(),
            bound_cidrs: vec![],
        }
    }

    #[test]
    fn policy_grants_read_on_the_host_subtree_only() {
        assert_eq!(
            opts().policy_hcl(),
            "path \"secret/data/hosts/web01/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n\npath \"secret/metadata/hosts/web01/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"
        );
        let v1 = Options {
            kv_version: 1,
            ..opts()
        };
        assert_eq!(
            v1.policy_hcl(),
            "path \"secret/hosts/web01/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"
        );
    }

    #[test]
    fn terraform_names_the_same_policy_and_role() {
        let tf = Options {
            bound_cidrs: vec!["10.0.0.0/24".into()],
            ..opts()
        }
        .terraform();
        assert!(
            tf.contains("resource \"vault_policy\" \"host_web01\""),
            "{tf}"
        );
        assert!(tf.contains("name   = \"host-web01\""));
        assert!(tf.contains("role_name      = \"web01\""));
        assert!(tf.contains("token_ttl      = 3600"));
        assert!(tf.contains("secret_id_bound_cidrs = [\"10.0.0.0/24\"]"));
        assert!(tf.contains("path \"secret/data/hosts/web01/*\""));
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(Options {
            host: "../x".into(),
            ..opts()
        }
        .validate()
        .is_err());
        assert!(Options {
            wrap_ttl: "0".into(),
            ..opts()
        }
        .validate()
        .is_err());
        assert!(Options {
            token_ttl: "soon".into(),
            ..opts()
        }
        .validate()
        .unwrap_err()
        .contains("--token-ttl"));
        assert!(opts().validate().is_ok());
    }
}
