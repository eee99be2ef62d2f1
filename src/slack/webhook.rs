//! The incoming webhook: reading its URL (a secret, never logged) and one POST,
//! classified so the sender knows whether to retry, wait or give up.

use super::SlackSpec;
use crate::secret::Secret;
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SlackError {
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
pub(crate) fn read_webhook_url(spec: &SlackSpec) -> Result<Secret, SlackError> {
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
pub(crate) enum Outcome {
    Delivered,
    /// Slack refused this payload for good (HTTP 400): retrying cannot help.
    Rejected(String),
    /// HTTP 429: wait this long.
    RetryAfter(Duration),
    /// Known not posted: no connection, the body never left, or Slack answered
    /// with an error (5xx...). Back off and retry.
    Failed(String),
    /// The body was handed to the connection but no answer came (the
    /// response timeout passed, or the connection broke): the message may or
    /// may not be in Slack. Never retried, so that it is not posted twice.
    Unconfirmed(String),
}

/// Backoff after the n-th consecutive failure: 0.5s, 1s, 2s, ... up to 30s
/// ([`crate::backoff::Backoff::ceiling_after`]), plus up to a quarter more of jitter.
pub(crate) fn backoff(failures: u32) -> Duration {
    let ceiling = crate::backoff::Backoff::ceiling_after(
        Duration::from_millis(500),
        Duration::from_secs(30),
        failures,
    );
    ceiling + ceiling.mul_f64(rand::random::<f64>() * 0.25)
}

/// Parses `Retry-After` (seconds), capped at 10 minutes.
pub(crate) fn retry_after(v: Option<&str>) -> Duration {
    let secs = v.and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(1);
    Duration::from_secs(secs.clamp(1, 600))
}

/// How long one POST may take, in its two phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// Connecting (TCP, TLS) and sending the request until its body is handed
    /// to the connection. A timeout here is retried: Slack cannot have the body.
    pub send: Duration,
    /// Waiting for the answer once the body was handed over.
    pub response: Duration,
}

impl From<&SlackSpec> for Timeouts {
    fn from(s: &SlackSpec) -> Timeouts {
        Timeouts {
            send: s.timeout,
            response: s.response_timeout,
        }
    }
}

/// The HTTP client for webhooks: a fresh connection per POST (a kept-alive
/// connection that the server closed while idle would fail a request after
/// its body was written, which could not be told apart from a post Slack
/// took), connecting bounded by `timeout`; the rest is bounded by [`post`].
pub(crate) fn client(spec: &SlackSpec) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(spec.timeout)
        .pool_max_idle_per_host(0)
        .build()
}

/// A request body of one chunk that reports when hyper takes it to write it
/// (after the request head), so that the caller knows from then on that Slack
/// may have the whole request.
struct ReportingBody {
    data: Option<bytes::Bytes>,
    sent: Option<tokio::sync::oneshot::Sender<()>>,
}

impl hyper::body::Body for ReportingBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let frame = this.data.take().map(|d| {
            if let Some(tx) = this.sent.take() {
                let _ = tx.send(());
            }
            Ok(hyper::body::Frame::data(d))
        });
        std::task::Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// POSTs one payload (JSON) and classifies what became of it; errors are
/// stripped of the URL before anyone sees them.
///
/// Until the body is handed to the connection, `timeouts.send` applies and any
/// failure is [`Outcome::Failed`] (retryable: Slack cannot have the message).
/// From then on `on_sent` is called once (the sender records the message as
/// in flight) and `timeouts.response` applies; no answer in time, or a broken
/// connection, is [`Outcome::Unconfirmed`].
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &Secret,
    body: &Value,
    timeouts: Timeouts,
    on_sent: impl FnOnce(),
) -> Outcome {
    let bytes = bytes::Bytes::from(serde_json::to_vec(body).expect("a JSON value serializes"));
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    let request = client
        .post(url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap(ReportingBody {
            data: Some(bytes),
            sent: Some(tx),
        }))
        .send();
    tokio::pin!(request);
    let deadline = tokio::time::Instant::now() + timeouts.send;
    let mut rx_open = true;
    let answered = loop {
        tokio::select! {
            r = &mut request => break Some(r),
            r = &mut rx, if rx_open => match r {
                Ok(()) => break None,
                Err(_) => rx_open = false, // the body was dropped unsent
            },
            _ = tokio::time::sleep_until(deadline) => {
                if rx_open && rx.try_recv().is_ok() {
                    break None;
                }
                return Outcome::Failed(format!(
                    "no connection to Slack, or the request not sent, within {}s (retrying is safe: Slack does not have it)",
                    timeouts.send.as_secs_f64()
                ));
            }
        }
    };
    let sent = answered.is_none() || (rx_open && rx.try_recv().is_ok());
    let result = match answered {
        Some(r) => r,
        None => {
            on_sent();
            match tokio::time::timeout(timeouts.response, &mut request).await {
                Ok(r) => r,
                Err(_) => {
                    return Outcome::Unconfirmed(format!(
                        "the request was sent but Slack did not answer within {}s",
                        timeouts.response.as_secs_f64()
                    ))
                }
            }
        }
    };
    let resp = match result {
        Ok(r) => r,
        Err(e) if sent => {
            return Outcome::Unconfirmed(format!(
                "the request was sent but the connection failed before Slack's answer: {}",
                e.without_url()
            ))
        }
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
    // The status is Slack's answer; its text only explains it (bounded in
    // time and size).
    let text = error_text(resp, timeouts.send).await;
    let text = super::blocks::truncate(text.trim(), 200);
    if status.as_u16() == 400 {
        Outcome::Rejected(format!("HTTP {status}: {text}"))
    } else {
        Outcome::Failed(format!("HTTP {status}: {text}"))
    }
}

/// The first KiB of an error answer's body, as text.
async fn error_text(mut resp: reqwest::Response, within: Duration) -> String {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(within, async {
        while buf.len() < 1024 {
            match resp.chunk().await {
                Ok(Some(c)) => buf.extend_from_slice(&c),
                _ => break,
            }
        }
    })
    .await;
    buf.truncate(1024);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests;
