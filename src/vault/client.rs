//! [`VaultClient`]: the connection pool, TLS and addresses of one Vault, the
//! API verbs (`read`, `list`, `write`, `delete`) and [`VaultClient::call`],
//! which tries the addresses in the order [`super::failover`] says.

use super::attempt::{Attempt, Request};
use super::error::VaultError;
use super::failover;
use super::http;
use crate::secret::Secret;
use crate::spec::VaultSpec;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct VaultClient {
    pub(super) http: reqwest::Client,
    pub(super) endpoints: Arc<failover::Endpoints>,
    timeout: std::time::Duration,
    pub(super) namespace: Option<Arc<str>>,
    token: Option<Arc<Secret>>,
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
pub enum Auth<'a> {
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
    pub fn new(spec: &VaultSpec) -> Result<VaultClient, VaultError> {
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
            endpoints: Arc::new(failover::Endpoints::new(
                &spec.addresses,
                &crate::slack::hostname(),
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
    pub fn addr(&self) -> String {
        self.endpoints.current().to_string()
    }

    /// The addresses in this host's order and each one's last state.
    pub fn endpoints(&self) -> &failover::Endpoints {
        &self.endpoints
    }

    /// A client that sends `token` with every request (shares the connection pool).
    pub fn with_token(&self, token: Secret) -> VaultClient {
        VaultClient {
            token: Some(Arc::new(token)),
            ..self.clone()
        }
    }

    pub fn token(&self) -> Option<&Secret> {
        self.token.as_deref()
    }

    /// GET `/v1/<path>` with the client's token.
    pub async fn read(&self, path: &str) -> Result<Value, VaultError> {
        self.call(Method::GET, path, None, Auth::Client, None).await
    }

    /// LIST `/v1/<path>` with the client's token; a missing path is an empty list.
    pub async fn list(&self, path: &str) -> Result<Vec<String>, VaultError> {
        let method = Method::from_bytes(b"LIST").expect("LIST is a valid method");
        match self.call(method, path, None, Auth::Client, None).await {
            Ok(v) => Ok(v["data"]["keys"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()),
            Err(VaultError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// POST/PUT `/v1/<path>` with a JSON body and the client's token.
    pub async fn write(&self, path: &str, body: &Value) -> Result<Value, VaultError> {
        self.call(Method::POST, path, Some(body), Auth::Client, None)
            .await
    }

    /// DELETE `/v1/<path>` with the client's token.
    pub async fn delete(&self, path: &str) -> Result<Value, VaultError> {
        self.call(Method::DELETE, path, None, Auth::Client, None)
            .await
    }

    /// The one place an HTTP request goes out: to the addresses in the order
    /// [`failover`] says, the next one on no answer, 5xx, 429 or 503. `wrap_ttl`
    /// asks Vault to response-wrap the answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
        wrap_ttl: Option<&str>,
    ) -> Result<Value, VaultError> {
        let token = match auth {
            Auth::Client => self.token.as_deref(),
            Auth::None => None,
            Auth::Token(t) => Some(t),
        };
        let req = Request {
            method: &method,
            path,
            body,
            token,
            wrap_ttl,
        };
        let started = std::time::Instant::now();
        let many = self.endpoints.len() > 1;
        let mut pause = failover::ROUND_PAUSE;
        loop {
            let mut failures: Vec<(Arc<str>, String)> = Vec::new();
            let mut answered = false;
            for i in self.endpoints.plan() {
                match self.attempt(i, &req).await {
                    Attempt::Done(result) => return result,
                    Attempt::Next {
                        reason,
                        answered: a,
                    } => {
                        if many {
                            tracing::debug!(address = %self.endpoints.order()[i], %reason, "trying the next Vault address");
                        }
                        answered |= a;
                        failures.push((self.endpoints.order()[i].clone(), reason));
                    }
                }
            }
            // Every address failed. A node that answered (a standby while the
            // cluster elects a leader) may serve in a moment: go round again
            // within vault.timeout. No answer at all: the cluster is down.
            if many && answered && started.elapsed() + pause < self.timeout {
                tracing::debug!(
                    pause_ms = pause.as_millis() as u64,
                    "no Vault address served the request; trying them again"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
                continue;
            }
            return Err(unreachable(failures));
        }
    }
}

/// Every address failed: one address says why as before; several say each.
fn unreachable(failures: Vec<(Arc<str>, String)>) -> VaultError {
    match failures.as_slice() {
        [(addr, reason)] => VaultError::Unreachable {
            addr: addr.to_string(),
            reason: reason.clone(),
        },
        _ => VaultError::Unreachable {
            addr: failures
                .iter()
                .map(|(a, _)| a.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            reason: failures
                .iter()
                .map(|(a, r)| format!("{a}: {r}"))
                .collect::<Vec<_>>()
                .join("; "),
        },
    }
}
