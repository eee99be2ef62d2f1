//! The incoming webhook: reading its URL (a secret, never logged) and one POST,
//! classified so the sender knows whether to retry, wait or give up.

use super::SlackSpec;
use crate::secret::Secret;
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("cannot read the Slack webhook URL file {path}: {source} (create it with the incoming-webhook URL, mode 0400)")]
    ReadUrl {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the Slack webhook URL file {path} does not hold an http(s) URL; put only the incoming-webhook URL in it")]
    BadUrl { path: String },
}

/// Reads the webhook URL file (trimmed); the value is never logged.
pub fn read_webhook_url(spec: &SlackSpec) -> Result<Secret, SlackError> {
    let path = spec.webhook_url_file.display().to_string();
    let text =
        std::fs::read_to_string(&spec.webhook_url_file).map_err(|source| SlackError::ReadUrl {
            path: path.clone(),
            source,
        })?;
    let url = Secret::new(text.trim());
    match reqwest::Url::parse(url.expose()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(url),
        _ => Err(SlackError::BadUrl { path }),
    }
}

/// What became of one POST.
#[derive(Debug)]
pub enum Outcome {
    Delivered,
    /// Slack refused this payload for good (HTTP 400): retrying cannot help.
    Rejected(String),
    /// HTTP 429: wait this long.
    RetryAfter(Duration),
    /// Anything else: back off and retry.
    Failed(String),
}

/// Backoff after the n-th consecutive failure: 0.5s, 1s, 2s, ... up to 30s, with jitter.
pub fn backoff(failures: u32) -> Duration {
    let base = 500u64.saturating_mul(1 << failures.min(6)).min(30_000);
    let jitter = rand::random::<u64>() % (base / 4 + 1);
    Duration::from_millis(base + jitter)
}

/// Parses `Retry-After` (seconds), capped at 10 minutes.
pub fn retry_after(v: Option<&str>) -> Duration {
    let secs = v.and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(1);
    Duration::from_secs(secs.clamp(1, 600))
}

/// POSTs one payload. Errors are stripped of the URL before anyone sees them.
pub async fn post(client: &reqwest::Client, url: &Secret, body: &Value) -> Outcome {
    let resp = match client.post(url.expose()).json(body).send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e.without_url().to_string()),
    };
    let status = resp.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    if status.as_u16() == 429 {
        let ra = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        return Outcome::RetryAfter(retry_after(ra.as_deref()));
    }
    let text = resp.text().await.unwrap_or_default();
    let text = super::blocks::truncate(text.trim(), 200);
    if status.as_u16() == 400 {
        Outcome::Rejected(format!("HTTP {status}: {text}"))
    } else {
        Outcome::Failed(format!("HTTP {status}: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_and_backoff() {
        assert_eq!(retry_after(Some("7")), Duration::from_secs(7));
        assert_eq!(retry_after(Some("junk")), Duration::from_secs(1));
        assert_eq!(retry_after(Some("99999")), Duration::from_secs(600));
        assert!(
            backoff(1) >= Duration::from_millis(1000) && backoff(1) <= Duration::from_millis(1250)
        );
        assert!(backoff(30) <= Duration::from_millis(37_500));
    }

    #[test]
    fn a_url_file_must_hold_an_http_url() {
        let dir = tempfile::tempdir().unwrap();
        let spec = |name: &str| SlackSpec {
            webhook_url_file: dir.path().join(name),
            timeout: Duration::from_secs(1),
        };
        std::fs::write(dir.path().join("ok"), "https://hooks.example/T/B/x\n").unwrap();
        std::fs::write(dir.path().join("bad"), "hooks.example/x").unwrap();
        assert_eq!(
            read_webhook_url(&spec("ok")).unwrap().expose(),
            "https://hooks.example/T/B/x"
        );
        let e = read_webhook_url(&spec("bad")).unwrap_err().to_string();
        assert!(e.contains("does not hold an http(s) URL"), "{e}");
        assert!(
            !e.contains("hooks.example"),
            "the value stays out of errors: {e}"
        );
        let e = read_webhook_url(&spec("missing")).unwrap_err().to_string();
        assert!(e.contains("cannot read the Slack webhook URL file"), "{e}");
    }
}
