//! A small async client for the parts of the Vault / OpenBao HTTP API vaultkeeper uses.
//!
//! One [`VaultClient`] per process, cheap to clone (it shares the connection pool).
//! Each API area has its own file; all of them go through [`VaultClient::call`],
//! which turns HTTP outcomes into [`VaultError`] variants.

pub mod approle;
mod error;
pub mod failover;
pub mod http;
pub mod kv;
pub mod wrapping;

pub use error::VaultError;

use crate::metrics::Outcome;
use crate::secret::Secret;
use crate::spec::VaultSpec;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    endpoints: Arc<failover::Endpoints>,
    timeout: std::time::Duration,
    namespace: Option<Arc<str>>,
    token: Option<Arc<Secret>>,
    policy: Arc<http::Policy>,
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
            endpoints: Arc::new(failover::Endpoints::with_failback(
                &spec.addresses,
                &crate::slack::hostname(),
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

    /// One request to address `i` (following a standby's redirects to listed
    /// addresses). `Next` when the next address should be tried.
    async fn attempt(&self, i: usize, r: &Request<'_>) -> Attempt {
        let base = self.endpoints.order()[i].clone();
        let mut at = i;
        let mut url =
            match reqwest::Url::parse(&format!("{}/v1/{}", base, r.path.trim_start_matches('/'))) {
                Ok(u) => u,
                Err(e) => {
                    return Attempt::Done(Err(VaultError::Config(format!(
                        "{base} is not a URL base: {e}"
                    ))))
                }
            };
        let mut hops = 0;
        let resp = loop {
            let mut req = self.http.request(r.method.clone(), url.clone());
            if let Some(t) = r.token {
                req = req.header("X-Vault-Token", t.expose());
            }
            if let Some(ns) = &self.namespace {
                req = req.header("X-Vault-Namespace", ns.as_ref());
            }
            if let Some(ttl) = r.wrap_ttl {
                req = req.header("X-Vault-Wrap-TTL", ttl);
            }
            if let Some(b) = r.body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => return self.no_answer(at, i, &e),
            };
            if !resp.status().is_redirection() {
                break resp;
            }
            self.endpoints.record(at, Outcome::Redirect, None);
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
                return Attempt::Done(Err(refuse(format!(
                    "HTTP {} is not a redirect Vault sends (only 307/308 are followed)",
                    status.as_u16()
                ))));
            }
            if hops >= http::MAX_HOPS {
                return Attempt::Done(Err(refuse(format!(
                    "more than {} redirects",
                    http::MAX_HOPS
                ))));
            }
            url = match self.policy.follow(&url, &location) {
                Ok(u) => u,
                Err(e) => return Attempt::Done(Err(e)),
            };
            hops += 1;
            // Counted against the listed address it leads to (an http → https
            // upgrade of a listed address counts against that address).
            at = http::Origin::of(&url)
                .and_then(|o| {
                    self.endpoints.order().iter().position(|a| {
                        http::Origin::parse(a).is_some_and(|b| b.host == o.host && b.port == o.port)
                    })
                })
                .unwrap_or(at);
            tracing::debug!(hop = hops, to = %http::Origin::of(&url).map(|o| o.to_string()).unwrap_or_default(), "following a redirect to a configured Vault address");
        };
        let status = resp.status();
        let outcome = Outcome::of_status(status.as_u16());
        let bytes = match http::read_capped(resp, self.policy.max_body, r.path).await {
            Ok(b) => b,
            Err(http::BodyError::TooLarge { path, limit }) => {
                self.endpoints.record(at, outcome, None);
                return Attempt::Done(Err(VaultError::TooLarge { path, limit }));
            }
            Err(http::BodyError::Transport(e)) => return self.no_answer(at, i, &e),
        };
        let path = r.path;
        if status.is_success() {
            self.endpoints.record(at, outcome, None);
            if bytes.is_empty() {
                return Attempt::Done(Ok(Value::Null));
            }
            return Attempt::Done(serde_json::from_slice(&bytes).map_err(|e| {
                VaultError::Malformed {
                    path: path.to_string(),
                    detail: format!(
                        "not JSON ({:?} error at line {} column {})",
                        e.classify(),
                        e.line(),
                        e.column()
                    ),
                }
            }));
        }
        let message = vault_errors(&bytes);
        let reason = match status {
            StatusCode::TOO_MANY_REQUESTS => format!("rate-limited (HTTP 429) on {path}"),
            StatusCode::SERVICE_UNAVAILABLE => {
                format!("sealed or in standby (HTTP 503): {message}")
            }
            s if s.is_server_error() => {
                format!("server error (HTTP {}) on {path}: {message}", s.as_u16())
            }
            _ => {
                self.endpoints.record(at, outcome, None);
                return Attempt::Done(Err(match status {
                    StatusCode::FORBIDDEN => VaultError::PermissionDenied {
                        path: path.to_string(),
                        message,
                    },
                    StatusCode::NOT_FOUND => VaultError::NotFound {
                        path: path.to_string(),
                    },
                    s => VaultError::BadRequest {
                        path: path.to_string(),
                        message: format!("HTTP {}: {message}", s.as_u16()),
                    },
                }));
            }
        };
        self.endpoints.record(at, outcome, Some(&reason));
        Attempt::Next {
            reason,
            answered: true,
        }
    }

    /// A request to address `at` (reached from address `i`) that got no HTTP
    /// answer: a certificate that does not verify (its own error, final), else
    /// the next address.
    fn no_answer(&self, at: usize, i: usize, e: &reqwest::Error) -> Attempt {
        let addr = self.endpoints.order()[at].to_string();
        if let Some((kind, detail)) = http::tls_failure(e) {
            self.endpoints.record(
                at,
                Outcome::ConnectionError,
                Some("TLS certificate refused"),
            );
            return Attempt::Done(Err(match kind {
                http::TlsFailure::Hostname => VaultError::TlsHostname { addr, detail },
                http::TlsFailure::Untrusted => VaultError::TlsUntrusted { addr, detail },
            }));
        }
        let (kind, outcome) = if e.is_timeout() {
            ("timed out", Outcome::Timeout)
        } else if e.is_connect() {
            ("connection failed", Outcome::ConnectionError)
        } else {
            ("request failed", Outcome::ConnectionError)
        };
        // The innermost cause says what happened ("Connection refused (os error
        // 111)", "deadline has elapsed"); reqwest's outer layers only repeat the URL.
        let mut cause: &dyn std::error::Error = e;
        while let Some(s) = cause.source() {
            cause = s;
        }
        let mut reason = format!("{kind} ({cause})");
        self.endpoints.record(at, outcome, Some(&reason));
        // Reached through a redirect: the node that redirected is up (a standby
        // pointing at a leader that just died, until the cluster elects another).
        let answered = at != i;
        if answered {
            reason = format!("{reason} at {addr}, where it redirected");
        }
        Attempt::Next { reason, answered }
    }
}

/// What one request carries, whichever address it goes to.
struct Request<'a> {
    method: &'a Method,
    path: &'a str,
    body: Option<&'a Value>,
    token: Option<&'a Secret>,
    wrap_ttl: Option<&'a str>,
}

enum Attempt {
    Done(Result<Value, VaultError>),
    /// Try the next address. `answered`: the node gave an HTTP answer (a 5xx,
    /// 429, 503, or a redirect to a node that then did not answer), so it is up
    /// and may serve once the cluster has a leader.
    Next {
        reason: String,
        answered: bool,
    },
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
