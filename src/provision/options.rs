//! [`Options`]: what `vaultkeeper provision` creates for a host, and the
//! policy and role it writes for them.

use super::names::{check_path, check_segment, hcl_string};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub(crate) struct Options {
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
    pub(crate) fn policy_name(&self) -> String {
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
    pub(crate) fn policy_hcl(&self) -> String {
        let base = self.base();
        let m = &self.kv_mount;
        let rule = |path: String| {
            format!(
                "path {} {{\n  capabilities = [\"read\", \"list\"]\n}}\n",
                hcl_string(&path)
            )
        };
        if self.kv_version == 1 {
            rule(format!("{m}/{base}/*"))
        } else {
            format!(
                "{}\n{}",
                rule(format!("{m}/data/{base}/*")),
                rule(format!("{m}/metadata/{base}/*"))
            )
        }
    }

    /// The AppRole role's settings as written to `auth/<mount>/role/<host>`.
    pub(crate) fn role_body(&self) -> Value {
        json!({
            "token_policies": [self.policy_name()],
            "token_ttl": self.token_ttl,
            "token_max_ttl": self.token_max_ttl,
            "secret_id_ttl": self.secret_id_ttl,
            "secret_id_num_uses": 0,
            "token_type": "service",
            "secret_id_bound_cidrs": self.bound_cidrs,
            "token_bound_cidrs": self.bound_cidrs,
        })
    }

    /// What `--dry-run` prints: the policy and the role, nothing is sent.
    pub(crate) fn dry_run(&self) -> String {
        format!(
            "# policy {} (sys/policies/acl/{})\n{}\n# role auth/{}/role/{}\n{}\n",
            self.policy_name(),
            self.policy_name(),
            self.policy_hcl(),
            self.approle_mount,
            self.host,
            serde_json::to_string_pretty(&self.role_body()).expect("serializes")
        )
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        check_segment(&self.host).map_err(|e| format!("--host: {e}"))?;
        check_path(&self.kv_mount).map_err(|e| format!("--kv-mount {e}"))?;
        check_path(&self.approle_mount).map_err(|e| format!("--approle-mount {e}"))?;
        check_path(&self.path_prefix).map_err(|e| format!("--path-prefix {e}"))?;
        for c in &self.bound_cidrs {
            let ok = c.len() <= 64
                && !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_hexdigit() || b".:/".contains(&b));
            if !ok {
                return Err(format!(
                    "--bound-cidr: {c:?} is not a CIDR block, e.g. \"10.0.0.0/24\""
                ));
            }
        }
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
    pub(crate) fn terraform(&self) -> String {
        let host = &self.host;
        let res = host.replace(['.', '-'], "_");
        let policy = self.policy_hcl();
        let cidrs = if self.bound_cidrs.is_empty() {
            String::new()
        } else {
            let list = self
                .bound_cidrs
                .iter()
                .map(|c| hcl_string(c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("  secret_id_bound_cidrs = [{list}]\n  token_bound_cidrs     = [{list}]\n")
        };
        format!(
            "resource \"vault_policy\" \"host_{res}\" {{\n  name   = {policy_name}\n  policy = <<-EOT\n{policy_indented}  EOT\n}}\n\nresource \"vault_approle_auth_backend_role\" \"{res}\" {{\n  backend        = {mount}\n  role_name      = {host}\n  token_policies = [vault_policy.host_{res}.name]\n  token_ttl      = {ttl}\n  token_max_ttl  = {max_ttl}\n  secret_id_ttl  = {sid_ttl}\n{cidrs}}}\n",
            policy_name = hcl_string(&self.policy_name()),
            host = hcl_string(host),
            policy_indented = policy.lines().map(|l| format!("    {l}\n")).collect::<String>(),
            mount = hcl_string(&self.approle_mount),
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
