//! One request to one address: the headers, a standby's redirects (307/308,
//! only to a configured origin), the capped body, and what the answer means
//! ([`Attempt`]: done, or try the next address).

use super::client::VaultClient;
use super::error::VaultError;
use super::http;
use crate::metrics::Outcome;
use crate::secret::Secret;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// What one request carries, whichever address it goes to.
pub(super) struct Request<'a> {
    pub(super) method: &'a Method,
    pub(super) path: &'a str,
    pub(super) body: Option<&'a Value>,
    pub(super) token: Option<&'a Secret>,
    pub(super) wrap_ttl: Option<&'a str>,
}

pub(super) enum Attempt {
    Done(Result<Value, VaultError>),
    /// Try the next address. `answered`: the node gave an HTTP answer (a 5xx,
    /// 429, 503, or a redirect to a node that then did not answer), so it is up
    /// and may serve once the cluster has a leader.
    Next {
        reason: String,
        answered: bool,
    },
}

impl VaultClient {
    /// One request to address `i` (following a standby's redirects to listed
    /// addresses). `Next` when the next address should be tried.
    pub(super) async fn attempt(&self, i: usize, r: &Request<'_>) -> Attempt {
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
            let resp = match self.request(r, &url).send().await {
                Ok(resp) => resp,
                Err(e) => return self.no_answer(at, i, &e),
            };
            if !resp.status().is_redirection() {
                break resp;
            }
            self.endpoints.record(at, Outcome::Redirect, None);
            url = match self.redirect(&url, &resp, hops) {
                Ok(u) => u,
                Err(e) => return Attempt::Done(Err(e)),
            };
            hops += 1;
            at = self.listed_index(&url).unwrap_or(at);
            tracing::debug!(hop = hops, to = %crate::spec::Origin::of(&url).map(|o| o.to_string()).unwrap_or_default(), "following a redirect to a configured Vault address");
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
        self.answer(at, status, &bytes, r.path)
    }

    /// The HTTP request for `r` at `url`: token, namespace, wrap TTL, body.
    fn request(&self, r: &Request<'_>, url: &reqwest::Url) -> reqwest::RequestBuilder {
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
        req
    }

    /// Where a redirect from `url` leads, if it may be followed: a 307/308,
    /// within [`http::MAX_HOPS`], to a configured origin.
    fn redirect(
        &self,
        url: &reqwest::Url,
        resp: &reqwest::Response,
        hops: usize,
    ) -> Result<reqwest::Url, VaultError> {
        let status = resp.status();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
            .to_string();
        let refuse = |reason: String| VaultError::RedirectRefused {
            from: crate::spec::Origin::of(url).map_or_else(|| url.to_string(), |o| o.to_string()),
            to: location.clone(),
            reason,
        };
        // 307/308 keep the method and body (a standby's answer); 301/302/303
        // would turn a POST into a GET and drop the body: never Vault's.
        if status != StatusCode::TEMPORARY_REDIRECT && status != StatusCode::PERMANENT_REDIRECT {
            return Err(refuse(format!(
                "HTTP {} is not a redirect Vault sends (only 307/308 are followed)",
                status.as_u16()
            )));
        }
        if hops >= http::MAX_HOPS {
            return Err(refuse(format!("more than {} redirects", http::MAX_HOPS)));
        }
        self.policy.follow(url, &location)
    }

    /// The listed address `url` is at: a redirect is counted against the
    /// listed address it leads to (an http → https upgrade of a listed address
    /// counts against that address).
    fn listed_index(&self, url: &reqwest::Url) -> Option<usize> {
        crate::spec::Origin::of(url).and_then(|o| {
            self.endpoints.order().iter().position(|a| {
                crate::spec::Origin::parse(a).is_some_and(|b| b.host == o.host && b.port == o.port)
            })
        })
    }

    /// What an HTTP answer from address `at` means: a value, an error of the
    /// request itself (final), or a reason to try the next address.
    fn answer(&self, at: usize, status: StatusCode, bytes: &[u8], path: &str) -> Attempt {
        let outcome = Outcome::of_status(status.as_u16());
        if status.is_success() {
            self.endpoints.record(at, outcome, None);
            if bytes.is_empty() {
                return Attempt::Done(Ok(Value::Null));
            }
            return Attempt::Done(serde_json::from_slice(bytes).map_err(|e| {
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
        let message = vault_errors(bytes);
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
            .map(|m| crate::report::text::vault_message(m))
            .collect::<Vec<_>>()
            .join("; "),
        _ => "no error message".to_string(),
    }
}
