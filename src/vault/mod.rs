//! A small async client for the parts of the Vault / OpenBao HTTP API vaultkeeper uses.
//!
//! One [`VaultClient`] per process, cheap to clone (it shares the connection pool).
//! Each API area has its own file; all of them go through [`VaultClient::call`],
//! which turns HTTP outcomes into [`VaultError`] variants.

pub mod approle;
mod error;
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
    pub fn new(spec: &VaultSpec) -> Result<VaultClient, VaultError> {
        let mut builder = reqwest::Client::builder()
            .timeout(spec.timeout)
            .connect_timeout(spec.timeout.min(std::time::Duration::from_secs(5)))
            .user_agent(concat!("vaultkeeper/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(32);
        if let Some(ca) = &spec.ca_cert {
            let pem = std::fs::read(ca).map_err(|e| {
                VaultError::Config(format!("cannot read CA certificate {}: {e}", ca.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                VaultError::Config(format!(
                    "{} is not a PEM certificate bundle: {e}",
                    ca.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if spec.skip_verify {
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
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
        let mut req = self.http.request(method, &url);
        let token = match auth {
            Auth::Client => self.token.as_deref(),
            Auth::None => None,
            Auth::Token(t) => Some(t),
        };
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
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
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

    fn unreachable(&self, e: &reqwest::Error) -> VaultError {
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
