//! [`run`]: unwrap the token (after telling a used token from an expired one),
//! check the role it logs in to, and store the credentials.

use super::error::BootstrapError;
use super::seen_tokens::{classify, SeenTokens};
use super::store::{credential_dirs, read_role_id, store};
use super::token::read_token;
use crate::exit;
use crate::secret::Secret;
use crate::spec::Spec;
use crate::vault::wrapping;
use crate::vault::VaultClient;
use sha2::Digest;
use std::path::PathBuf;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Bootstrapped {
    /// Both credential files already exist.
    AlreadyDone,
    /// The token held role-id and secret-id (the `sys/wrapping/wrap` bundle).
    StoredBundle,
    /// The token held a secret-id; the role-id was already in place.
    StoredSecretId,
}

/// Bootstraps, then erases the spent token from `erase_from` and the spec's
/// `wrappedTokenFile` ([`crate::token_erase`]).
pub(crate) async fn run(
    spec: &Spec,
    env: impl Fn(&str) -> Option<String>,
    erase_from: &[PathBuf],
) -> Result<Bootstrapped, BootstrapError> {
    let a = &spec.approle;
    if a.role_id_file.exists() && a.secret_id_file.exists() {
        return Ok(Bootstrapped::AlreadyDone);
    }
    let token = read_token(a, env)?;
    let done = unwrap_and_store(spec, &token).await?;
    let mut files = erase_from.to_vec();
    files.extend(a.wrapped_token_file.iter().cloned());
    crate::token_erase::erase_all(&files, &token);
    Ok(done)
}

async fn unwrap_and_store(spec: &Spec, token: &Secret) -> Result<Bootstrapped, BootstrapError> {
    let a = &spec.approle;
    let client = VaultClient::new(&spec.vault).map_err(BootstrapError::Vault)?;
    let seen = SeenTokens::new(&spec.state_dir);
    let digest = hex::encode(sha2::Sha256::digest(token.expose().as_bytes()));

    let info = match wrapping::lookup(&client, token).await {
        Ok(info) => info,
        Err(e) => return Err(classify(e, seen.get(&digest))),
    };
    seen.record(&digest, &info);
    if !wrapping::is_expected_creation_path(&info.creation_path, &a.mount) {
        return Err(BootstrapError::ForeignCreationPath {
            creation_path: info.creation_path,
            mount: a.mount.clone(),
        });
    }
    let bundle = info.creation_path == "sys/wrapping/wrap";
    if !bundle && !a.role_id_file.exists() {
        return Err(BootstrapError::RoleIdMissing {
            path: a.role_id_file.clone(),
        });
    }
    // Make sure we can store the result before the single-use token is spent.
    let dirs = credential_dirs(a)?;

    let data = match wrapping::unwrap(&client, token).await {
        Ok(d) => d,
        Err(e) => return Err(classify(e, Some(info))),
    };
    let secret_id = data
        .get("secret_id")
        .and_then(|v| v.as_str())
        .map(Secret::new)
        .ok_or(BootstrapError::UnexpectedShape {
            missing: "secret_id",
        })?;
    let role_id = data
        .get("role_id")
        .and_then(|v| v.as_str())
        .map(Secret::new);
    if bundle && role_id.is_none() {
        return Err(BootstrapError::UnexpectedShape { missing: "role_id" });
    }
    let login_role_id = match &role_id {
        Some(r) => r.clone(),
        None => read_role_id(&a.role_id_file)?,
    };
    verify_role(&client, spec, &login_role_id, &secret_id).await?;
    if let Some(role_id) = &role_id {
        store(&dirs, &a.role_id_file, role_id)?;
    }
    store(&dirs, &a.secret_id_file, &secret_id)?;
    Ok(if role_id.is_some() {
        Bootstrapped::StoredBundle
    } else {
        Bootstrapped::StoredSecretId
    })
}

/// Logs in with the unwrapped credentials and checks the token's AppRole role
/// against this host's; the token is revoked either way. A `sys/wrapping/wrap`
/// bundle can be made by any token with the `default` policy, so the creation
/// path alone does not say whose credentials are inside.
async fn verify_role(
    client: &VaultClient,
    spec: &Spec,
    role_id: &Secret,
    secret_id: &Secret,
) -> Result<(), BootstrapError> {
    let expected = spec.approle.expected_role();
    let cannot = |reason: String, code: u8| BootstrapError::CannotVerify { reason, code };
    let token = crate::vault::approle::login(client, &spec.approle.mount, role_id, secret_id)
        .await
        .map_err(|e| {
            let code = if e.is_unreachable() {
                exit::UNREACHABLE
            } else {
                exit::CREDENTIALS
            };
            cannot(format!("the test login failed: {e}"), code)
        })?;
    let authed = client.with_token(token.token);
    let got = crate::vault::approle::lookup_self_role(&authed).await;
    crate::vault::approle::release(&authed).await;
    match got {
        Ok(Some(role)) if role == expected => {
            tracing::info!(
                "the unwrapped credentials log in as AppRole role {role:?}, this host's"
            );
            Ok(())
        }
        Ok(got) => Err(BootstrapError::WrongRole {
            expected,
            got: got.unwrap_or_else(|| "(not an AppRole token)".into()),
        }),
        Err(e) => Err(cannot(
            format!("auth/token/lookup-self failed: {e}"),
            e.exit_code(),
        )),
    }
}
