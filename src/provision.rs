//! `vaultkeeper provision --host NAME`: the operator side. With an admin token it
//! creates or updates the host's policy and AppRole role, generates a secret-id and
//! wraps role-id and secret-id in one single-use token, the only thing printed.
//! Running it again updates the policy and role and issues a new token.
//!
//! Every name is validated as a path segment ([`check_segment`], [`check_path`])
//! before anything is sent, the policy's strings are HCL-escaped
//! ([`hcl_string`]), and a failure part-way rolls back what this run created
//! (a new policy is deleted, an updated one restored, a new role deleted, a new
//! AppRole mount disabled, a generated secret-id destroyed). `--dry-run` prints
//! the policy and role without calling Vault.

use crate::secret::Secret;
use crate::vault::{wrapping, VaultClient, VaultError};
use serde_json::{json, Value};

/// A name Vault puts in a path (host, role, mount segment): letters, digits,
/// `-`, `_` and `.`, not first `.`, at most 128 bytes.
pub fn check_segment(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a path segment: use letters, digits, '-', '_' and '.' (not first), nothing else"
        ))
    }
}

/// Segments separated by single `/` (a mount like `team/kv`, a prefix like `hosts/eu`).
pub fn check_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty; name at least one segment, e.g. \"hosts\"".into());
    }
    for seg in s.split('/') {
        check_segment(seg).map_err(|e| format!("{s:?}: {e}"))?;
    }
    Ok(())
}

/// `s` as a quoted HCL string: `\`, `"`, control characters escaped, and the
/// template sequences `${` and `%{` doubled so they stay literal.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

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
    pub fn role_body(&self) -> Value {
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
    pub fn dry_run(&self) -> String {
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

    pub fn validate(&self) -> Result<(), String> {
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

/// What this run changed, to undo on failure.
#[derive(Default)]
struct Undo {
    /// The policy's text before this run (`Some(None)`: it did not exist).
    policy_before: Option<Option<String>>,
    mount_created: bool,
    role_created: bool,
    secret_id_accessor: Option<String>,
}

impl Undo {
    /// Best effort, in reverse order; each step that fails is logged.
    async fn rollback(self, admin: &VaultClient, o: &Options) {
        let role = format!("auth/{}/role/{}", o.approle_mount, o.host);
        let mut steps: Vec<(String, Result<Value, VaultError>)> = Vec::new();
        if let (Some(acc), false) = (&self.secret_id_accessor, self.role_created) {
            let r = admin
                .write(
                    &format!("{role}/secret-id-accessor/destroy"),
                    &json!({ "secret_id_accessor": acc }),
                )
                .await;
            steps.push(("destroy the secret-id it generated".into(), r));
        }
        if self.role_created {
            steps.push((format!("delete role {role}"), admin.delete(&role).await));
        }
        if self.mount_created {
            let path = format!("sys/auth/{}", o.approle_mount);
            steps.push((
                format!("disable the AppRole mount {}", o.approle_mount),
                admin.delete(&path).await,
            ));
        }
        let policy = format!("sys/policies/acl/{}", o.policy_name());
        match self.policy_before {
            Some(None) => steps.push((
                format!("delete policy {}", o.policy_name()),
                admin.delete(&policy).await,
            )),
            Some(Some(text)) => steps.push((
                format!("restore policy {}", o.policy_name()),
                admin.write(&policy, &json!({ "policy": text })).await,
            )),
            None => {}
        }
        for (what, r) in steps {
            match r {
                Ok(_) => tracing::info!("rolled back: {what}"),
                Err(e) => tracing::error!("rollback: cannot {what}: {e}; do it by hand"),
            }
        }
    }
}

/// Creates or updates everything and returns the wrapped token; on failure,
/// rolls back what this run created.
pub async fn provision(admin: &VaultClient, o: &Options) -> Result<Secret, VaultError> {
    let mut undo = Undo::default();
    match provision_steps(admin, o, &mut undo).await {
        Ok(t) => Ok(t),
        Err(e) => {
            tracing::error!("provisioning failed ({e}); rolling back what this run created");
            undo.rollback(admin, o).await;
            Err(e)
        }
    }
}

async fn provision_steps(
    admin: &VaultClient,
    o: &Options,
    undo: &mut Undo,
) -> Result<Secret, VaultError> {
    let policy_path = format!("sys/policies/acl/{}", o.policy_name());
    let before = match admin.read(&policy_path).await {
        Ok(v) => Some(crate::vault::field::<String>(
            &v,
            "/data/policy",
            &policy_path,
        )?),
        Err(VaultError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    admin
        .write(&policy_path, &json!({ "policy": o.policy_hcl() }))
        .await?;
    undo.policy_before = Some(before);

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
        undo.mount_created = true;
    }

    let role = format!("auth/{}/role/{}", o.approle_mount, o.host);
    let existed = match admin.read(&role).await {
        Ok(_) => true,
        Err(VaultError::NotFound { .. }) => false,
        Err(e) => return Err(e),
    };
    admin.write(&role, &o.role_body()).await?;
    undo.role_created = !existed;
    let role_id: String = crate::vault::field(
        &admin.read(&format!("{role}/role-id")).await?,
        "/data/role_id",
        &role,
    )?;
    let generated = admin
        .write(&format!("{role}/secret-id"), &json!({}))
        .await?;
    undo.secret_id_accessor =
        crate::vault::field::<Option<String>>(&generated, "/data/secret_id_accessor", &role)?;
    let secret_id = Secret::new(crate::vault::field::<String>(
        &generated,
        "/data/secret_id",
        &role,
    )?);
    wrapping::wrap(
        admin,
        &json!({ "role_id": role_id, "secret_id": secret_id.expose() }),
        &o.wrap_ttl,
    )
    .await
}

#[cfg(test)]
mod tests;
