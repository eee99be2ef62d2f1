//! A small async client for the parts of the Vault / OpenBao HTTP API vaultkeeper uses.
//!
//! One [`VaultClient`] per process, cheap to clone (it shares the connection pool).
//! Each API area has its own file; all of them go through [`VaultClient::call`],
//! which turns HTTP outcomes into [`VaultError`] variants.

pub mod approle;
mod error;
pub mod http;
pub mod kv;
pub mod wrapping;

pub use error::VaultError;

use crate::secret::Secret;
use crate::spec::VaultSpec;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    addr: Arc<str>,
    namespace: Option<Arc<str>>,
    token: Option<Arc<Secret>>,
    policy: Arc<http::Policy>,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient")
            .field("addr", &self.addr)
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
            addr: Arc::from(spec.address.as_str()),
            namespace: spec.namespace.as_deref().map(Arc::from),
            token: None,
            policy: Arc::new(http::Policy::new(
                [spec.address.as_str()],
                spec.max_response_size,
            )),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
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

    /// The one place an HTTP request goes out. `wrap_ttl` asks Vault to
    /// response-wrap the answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
        wrap_ttl: Option<&str>,
    ) -> Result<Value, VaultError> {
        let mut url = reqwest::Url::parse(&format!(
            "{}/v1/{}",
            self.addr,
            path.trim_start_matches('/')
        ))
        .map_err(|e| VaultError::Config(format!("{} is not a URL base: {e}", self.addr)))?;
        let token = match auth {
            Auth::Client => self.token.as_deref(),
            Auth::None => None,
            Auth::Token(t) => Some(t),
        };
        let mut hops = 0;
        let resp = loop {
            let mut req = self.http.request(method.clone(), url.clone());
            if let Some(t) = token {
                req = req.header("X-Vault-Token", t.expose());
            }
            if let Some(ns) = &self.namespace {
                req = req.header("X-Vault-Namespace", ns.as_ref());
            }
            if let Some(ttl) = wrap_ttl {
                req = req.header("X-Vault-Wrap-TTL", ttl);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| self.transport(&e))?;
            if !resp.status().is_redirection() {
                break resp;
            }
            let status = resp.status();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string();
            let refuse = |reason: String| VaultError::RedirectRefused {
                from: http::Origin::of(&url).map_or_else(|| url.to_string(), |o| o.to_string()),
                to: location.clone(),
                reason,
            };
            // 307/308 keep the method and body (a standby's answer); 301/302/303
            // would turn a POST into a GET and drop the body: never Vault's.
            if status != StatusCode::TEMPORARY_REDIRECT && status != StatusCode::PERMANENT_REDIRECT
            {
                return Err(refuse(format!(
                    "HTTP {} is not a redirect Vault sends (only 307/308 are followed)",
                    status.as_u16()
                )));
            }
            if hops >= http::MAX_HOPS {
                return Err(refuse(format!("more than {} redirects", http::MAX_HOPS)));
            }
            url = self.policy.follow(&url, &location)?;
            hops += 1;
            tracing::debug!(hop = hops, to = %http::Origin::of(&url).map(|o| o.to_string()).unwrap_or_default(), "following a redirect to a configured Vault address");
        };
        let status = resp.status();
        let bytes = match http::read_capped(resp, self.policy.max_body, path).await {
            Ok(b) => b,
            Err(http::BodyError::TooLarge { path, limit }) => {
                return Err(VaultError::TooLarge { path, limit })
            }
            Err(http::BodyError::Transport(e)) => return Err(self.transport(&e)),
        };
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| VaultError::Malformed {
                path: path.to_string(),
                detail: format!(
                    "not JSON ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            });
        }
        let message = vault_errors(&bytes);
        Err(match status {
            StatusCode::FORBIDDEN => VaultError::PermissionDenied {
                path: path.to_string(),
                message,
            },
            StatusCode::NOT_FOUND => VaultError::NotFound {
                path: path.to_string(),
            },
            StatusCode::TOO_MANY_REQUESTS => VaultError::Unreachable {
                addr: self.addr.to_string(),
                reason: format!("rate-limited (HTTP 429) on {path}"),
            },
            StatusCode::SERVICE_UNAVAILABLE => VaultError::Unreachable {
                addr: self.addr.to_string(),
                reason: format!("sealed or in standby (HTTP 503): {message}"),
            },
            s if s.is_server_error() => VaultError::Unreachable {
                addr: self.addr.to_string(),
                reason: format!("server error (HTTP {}) on {path}: {message}", s.as_u16()),
            },
            s => VaultError::BadRequest {
                path: path.to_string(),
                message: format!("HTTP {}: {message}", s.as_u16()),
            },
        })
    }

    /// A request that got no HTTP answer: a certificate that does not verify
    /// (its own error), else "unreachable".
    fn transport(&self, e: &reqwest::Error) -> VaultError {
        if let Some((kind, detail)) = http::tls_failure(e) {
            let addr = self.addr.to_string();
            return match kind {
                http::TlsFailure::Hostname => VaultError::TlsHostname { addr, detail },
                http::TlsFailure::Untrusted => VaultError::TlsUntrusted { addr, detail },
            };
        }
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        // The innermost cause says what happened ("Connection refused (os error
        // 111)", "deadline has elapsed"); reqwest's outer layers only repeat the URL.
        let mut cause: &dyn std::error::Error = e;
        while let Some(s) = cause.source() {
            cause = s;
        }
        let reason = format!("{kind} ({cause})");
        VaultError::Unreachable {
            addr: self.addr.to_string(),
            reason,
        }
    }
}

/// Vault's `{"errors": [...]}` joined, or a placeholder. Never the raw body.
fn vault_errors(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        // Each item may itself be a multi-line list ("1 error occurred:\n\t* ..."): one line.
        Ok(e) if !e.errors.is_empty() => e
            .errors
            .iter()
            .map(|m| crate::report::vault_message(m))
            .collect::<Vec<_>>()
            .join("; "),
        _ => "no error message".to_string(),
    }
}

/// Deserializes a typed view of `value[field]`; errors never quote the values.
pub(crate) fn field<T: DeserializeOwned>(
    value: &Value,
    pointer: &str,
    path: &str,
) -> Result<T, VaultError> {
    let v = value.pointer(pointer).cloned().unwrap_or(Value::Null);
    serde_json::from_value(v).map_err(|e| VaultError::Malformed {
        path: path.to_string(),
        detail: format!(
            "{pointer} is missing or of the wrong type ({:?})",
            e.classify()
        ),
    })
}
