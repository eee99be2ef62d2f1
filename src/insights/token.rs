//! The insights token: the operator's from `BAO_TOKEN`/`VAULT_TOKEN`, else an
//! AppRole login with the host's credentials ([`authenticate`]), revoked when
//! done ([`release`]); and where it came from ([`TokenSource`]).

use super::error::InsightsError;
use crate::fetch;
use crate::secret::Secret;
use crate::spec::Spec;
use crate::vault::approle::LoginError;
use crate::vault::{VaultClient, VaultError};

/// Where the token came from (shown in `status`). Serialized as `"environment"`
/// or `"appRole"` (docs/reference/insights-json.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// `BAO_TOKEN` or `VAULT_TOKEN`: the variable's name.
    Environment(&'static str),
    /// The host's AppRole credentials from the spec.
    AppRole,
}

impl TokenSource {
    /// For people: the variable's name, or "AppRole".
    pub(crate) fn label(&self) -> &'static str {
        match self {
            TokenSource::Environment(var) => var,
            TokenSource::AppRole => "AppRole",
        }
    }
}

impl serde::Serialize for TokenSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            TokenSource::Environment(_) => "environment",
            TokenSource::AppRole => "appRole",
        })
    }
}

/// The operator's token from the environment (`BAO_TOKEN` wins, as in `bao`).
#[cfg(test)]
pub(crate) fn env_token(env: &impl Fn(&str) -> Option<String>) -> Option<Secret> {
    env_token_named(env).map(|(t, _)| t)
}

/// The operator's token and the variable it came from (`BAO_TOKEN` wins).
pub(crate) fn env_token_named(
    env: &impl Fn(&str) -> Option<String>,
) -> Option<(Secret, &'static str)> {
    ["BAO_TOKEN", "VAULT_TOKEN"].into_iter().find_map(|var| {
        env(var)
            .filter(|t| !t.trim().is_empty())
            .map(|t| (Secret::new(t.trim()), var))
    })
}

/// Checks that the token from `var` is one Vault knows (auth/token/lookup-self,
/// which the default policy allows): a wrong or expired token is said as such
/// (exit 3) before anything is changed. Vault answers an unknown token and a
/// token without the default policy alike (403), so the message names both.
pub(crate) async fn check_env_token(
    client: &VaultClient,
    var: &'static str,
) -> Result<(), InsightsError> {
    match client.read("auth/token/lookup-self").await {
        Ok(_) => Ok(()),
        Err(VaultError::PermissionDenied { message, .. }) => Err(InsightsError::TokenRejected {
            var,
            addr: client.addr().to_string(),
            message: crate::report::text::vault_message(&message),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A client carrying the insights token: the environment's, else an AppRole login.
pub(crate) async fn authenticate(
    client: &VaultClient,
    spec: &Spec,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(VaultClient, TokenSource), InsightsError> {
    if let Some((t, var)) = env_token_named(env) {
        // Not checked with lookup-self first: a token without the default
        // policy is still one whose other reads can be assessed.
        return Ok((client.with_token(t), TokenSource::Environment(var)));
    }
    let creds = fetch::read_credentials(&spec.approle).map_err(InsightsError::NoToken)?;
    match fetch::login(client, spec, &creds).await {
        Ok(t) => Ok((client.with_token(t.token), TokenSource::AppRole)),
        Err(LoginError::Vault(e)) => Err(e.into()),
        Err(e) => Err(InsightsError::Login(e)),
    }
}

/// Revokes the token [`authenticate`] logged in with (not the environment's).
pub(crate) async fn release(authed: &Result<(VaultClient, TokenSource), InsightsError>) {
    if let Ok((c, TokenSource::AppRole)) = authed {
        crate::vault::approle::release(c).await;
    }
}
