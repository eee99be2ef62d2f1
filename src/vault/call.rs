//! The requests of a [`VaultClient`]: the API verbs (`read`, `list`, `write`,
//! `delete`) and [`VaultClient::call`], which tries the addresses in the order
//! [`super::failover`] says.

use super::attempt::{Attempt, Request};
use super::client::{Auth, VaultClient};
use super::error::VaultError;
use super::failover;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;

impl VaultClient {
    /// GET `/v1/<path>` with the client's token.
    pub(crate) async fn read(&self, path: &str) -> Result<Value, VaultError> {
        self.call(Method::GET, path, None, Auth::Client, None).await
    }

    /// LIST `/v1/<path>` with the client's token; a missing path is an empty list.
    pub(crate) async fn list(&self, path: &str) -> Result<Vec<String>, VaultError> {
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
    pub(crate) async fn write(&self, path: &str, body: &Value) -> Result<Value, VaultError> {
        self.call(Method::POST, path, Some(body), Auth::Client, None)
            .await
    }

    /// DELETE `/v1/<path>` with the client's token.
    pub(crate) async fn delete(&self, path: &str) -> Result<Value, VaultError> {
        self.call(Method::DELETE, path, None, Auth::Client, None)
            .await
    }

    /// The one place an HTTP request goes out: to the addresses in the order
    /// [`failover`] says, the next one on no answer, 5xx, 429 or 503. `wrap_ttl`
    /// asks Vault to response-wrap the answer.
    pub(crate) async fn call(
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
