//! [`VaultClient`]: the connection pool, TLS, addresses and token of one
//! Vault, and how a request authenticates ([`Auth`]). The requests themselves
//! are in `call.rs`.

use super::error::VaultError;
use super::failover;
use super::http;
use crate::secret::Secret;
use crate::spec::VaultSpec;
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct VaultClient {
    pub(super) http: reqwest::Client,
    pub(super) endpoints: Arc<failover::Endpoints>,
    pub(super) timeout: std::time::Duration,
    pub(super) namespace: Option<Arc<str>>,
    pub(super) token: Option<Arc<Secret>>,
    pub(super) policy: Arc<http::Policy>,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient")
            .field("addresses", &self.endpoints.order())
            .field("namespace", &self.namespace)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// The client's own token, if it has one.
    Client,
    /// No token at all (login, wrapping lookup).
    None,
    /// This token (unwrap authenticates with the wrapping token itself).
    Token(&'a Secret),
}

impl VaultClient {
    /// The client for the spec's Vault: TLS from the spec only (`vault.caCert`,
    /// `vault.skipVerify`), no automatic redirects, bodies capped at
    /// `vault.maxResponseSize` (see [`http`]).
    pub(crate) fn new(spec: &VaultSpec) -> Result<VaultClient, VaultError> {
        if spec.addresses.is_empty() {
            return Err(VaultError::Config(
                "vault.address lists no address; set it to the URL of the Vault server (or its nodes)"
                    .into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(spec.timeout)
            .connect_timeout(spec.timeout.min(std::time::Duration::from_secs(5)))
            .user_agent(concat!("vaultkeeper/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(32);
        if let Some(ca) = &spec.ca_cert {
            let certs = http::load_ca_bundle(ca).map_err(|why| {
                VaultError::Config(format!(
                    "the CA certificate file {} (vault.caCert) is unusable: {why}; point vault.caCert at the PEM bundle of the CA that signed Vault's certificate",
                    ca.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if spec.skip_verify {
            tracing::warn!("vault.skipVerify is true: Vault's TLS certificate is NOT verified; anyone between this host and Vault can read the credentials");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| VaultError::Config(format!("TLS set-up failed: {e}")))?;
        Ok(VaultClient {
            http,
            endpoints: Arc::new(failover::Endpoints::with_failback(
                &spec.addresses,
                &crate::host::hostname(),
                spec.failback,
            )),
            timeout: spec.timeout,
            namespace: spec.namespace.as_deref().map(Arc::from),
            token: None,
            policy: Arc::new(http::Policy::new(
                spec.addresses.iter().map(String::as_str),
                spec.max_response_size,
            )),
        })
    }

    /// The address requests go to first now: the last one that answered (the
    /// host's preferred one until another had to answer).
    pub(crate) fn addr(&self) -> String {
        self.endpoints.current().to_string()
    }

    /// The addresses in this host's order and each one's last state.
    pub(crate) fn endpoints(&self) -> &failover::Endpoints {
        &self.endpoints
    }

    /// A client that sends `token` with every request (shares the connection pool).
    pub(crate) fn with_token(&self, token: Secret) -> VaultClient {
        VaultClient {
            token: Some(Arc::new(token)),
            ..self.clone()
        }
    }

    pub(crate) fn token(&self) -> Option<&Secret> {
        self.token.as_deref()
    }
}
