//! `vaultkeeper provision`: its arguments and the edge that runs it (the work is in [`crate::provision`]).

use crate::report::{self, Failure, UsageContext};
use crate::{exit, provision};
use anyhow::Context;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub(crate) struct ProvisionArgs {
    /// The host's name: role `NAME`, policy `host-NAME`.
    #[arg(long)]
    pub host: String,
    /// Lifetime of the wrapped token.
    #[arg(long, default_value = "24h")]
    pub wrap_ttl: String,
    /// Lifetime of the tokens the host gets at login.
    #[arg(long, default_value = "1h")]
    pub token_ttl: String,
    /// Longest a host token can be renewed to.
    #[arg(long, default_value = "24h")]
    pub token_max_ttl: String,
    /// Lifetime of the secret-id ("0" = no expiry).
    #[arg(long, default_value = "0")]
    pub secret_id_ttl: String,
    /// The host's secrets live below `<kv-mount>/<path-prefix>/<host>/`.
    #[arg(long, default_value = "hosts")]
    pub path_prefix: String,
    #[arg(long, default_value = "secret")]
    pub kv_mount: String,
    #[arg(long, default_value_t = 2)]
    pub kv_version: u8,
    #[arg(long, default_value = "approle")]
    pub approle_mount: String,
    /// Bind the secret-id and tokens to these CIDRs (repeatable).
    #[arg(long = "bound-cidr")]
    pub bound_cidrs: Vec<String>,
    /// Print the equivalent Terraform instead of calling the API.
    #[arg(long)]
    pub terraform: bool,
    /// Print the policy and role it would write, call nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub(crate) fn run_provision(spec_path: &Path, a: ProvisionArgs) -> anyhow::Result<u8> {
    let opts = provision::Options {
        host: a.host,
        approle_mount: a.approle_mount,
        kv_mount: a.kv_mount,
        kv_version: a.kv_version,
        path_prefix: a.path_prefix,
        token_ttl: a.token_ttl,
        token_max_ttl: a.token_max_ttl,
        secret_id_ttl: a.secret_id_ttl,
        wrap_ttl: a.wrap_ttl,
        bound_cidrs: a.bound_cidrs,
    };
    if let Err(msg) = opts.validate() {
        tracing::error!("{}", report::one_line(&msg));
        return Ok(exit::USAGE);
    }
    if a.terraform {
        print!("{}", opts.terraform());
        return Ok(exit::OK);
    }
    if a.dry_run {
        print!("{}", opts.dry_run());
        return Ok(exit::OK);
    }
    let vault = crate::spec::load_spec_or_env(spec_path)?.vault;
    let env = |k: &str| std::env::var(k).ok();
    let Some((token, var)) = crate::insights::env_token_named(&env) else {
        return Err(Failure::usage(
            "provision needs an admin token and neither BAO_TOKEN nor VAULT_TOKEN is set",
            "export BAO_TOKEN (or VAULT_TOKEN) with a token that may write sys/policy and auth/approle",
        )
        .into());
    };
    let admin = crate::vault::VaultClient::new(&vault)
        .usage_err(
            format!("cannot use Vault at {}", vault.address),
            "fix the Vault address or TLS settings",
        )?
        .with_token(token);
    let rt = crate::runtime::multi_thread()?;
    rt.block_on(crate::insights::check_env_token(&admin, var))?;
    let wrapped = rt
        .block_on(provision::provision(&admin, &opts))
        .with_context(|| {
            format!(
                "provisioning host {} at {} failed",
                opts.host, vault.address
            )
        })?;
    tracing::info!(
        "provisioned host {}: policy {}, AppRole role {}; the wrapped token below is valid for {} and can be used once",
        opts.host,
        opts.policy_name(),
        opts.host,
        opts.wrap_ttl
    );
    println!("{}", wrapped.expose());
    Ok(exit::OK)
}
