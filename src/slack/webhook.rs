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
    /// Known not posted: no connection, the body never left, or Slack answered
    /// with an error (5xx...). Back off and retry.
    Failed(String),
    /// The body was handed to the connection but no answer came (the
    /// response timeout passed, or the connection broke): the message may or
    /// may not be in Slack. Never retried, so that it is not posted twice.
    Unconfirmed(String),
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

/// How long one POST may take, in its two phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
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
pub fn client(spec: &SlackSpec) -> reqwest::Result<reqwest::Client> {
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
pub async fn post(
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
            response_timeout: Duration::from_secs(5),
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

    /// A one-connection HTTP server: reads one request (head and
    /// Content-Length body), then does `answer` with the stream; returns the
    /// URL and a handle giving the request bytes.
    async fn server<F, Fut>(answer: F) -> (Secret, tokio::task::JoinHandle<Vec<u8>>)
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        use tokio::io::AsyncReadExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Secret::new(format!("http://{}/services/T/B/x", l.local_addr().unwrap()));
        let h = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client closed before sending its request");
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .expect("a Content-Length header");
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            answer(s).await;
            req
        });
        (url, h)
    }

    async fn reply(mut s: tokio::net::TcpStream, status: &str, extra: &str) {
        use tokio::io::AsyncWriteExt;
        let _ = s
            .write_all(
                format!("HTTP/1.1 {status}\r\n{extra}Content-Length: 2\r\n\r\nno").as_bytes(),
            )
            .await;
    }

    const T: Timeouts = Timeouts {
        send: Duration::from_millis(300),
        response: Duration::from_millis(1500),
    };

    async fn run(url: &Secret) -> (Outcome, bool) {
        let c = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let mut sent = false;
        let o = post(&c, url, &serde_json::json!({"text": "hi"}), T, || {
            sent = true
        })
        .await;
        (o, sent)
    }

    #[tokio::test]
    async fn an_answer_after_the_send_timeout_is_awaited_and_delivered() {
        let (url, h) = server(|s| async move {
            tokio::time::sleep(Duration::from_millis(800)).await; // > T.send, < T.response
            reply(s, "200 OK", "").await;
        })
        .await;
        let (o, sent) = run(&url).await;
        assert!(matches!(o, Outcome::Delivered), "{o:?}");
        assert!(sent, "the body was reported sent");
        let req = String::from_utf8(h.await.unwrap()).unwrap();
        assert!(
            req.starts_with("POST /services/T/B/x HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(
            req.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{req}"
        );
        assert!(req.ends_with("{\"text\":\"hi\"}"), "{req}");
    }

    #[tokio::test]
    async fn no_answer_after_the_body_was_sent_is_unconfirmed_not_failed() {
        let (url, h) = server(|s| async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(s);
        })
        .await;
        let start = std::time::Instant::now();
        let (o, sent) = run(&url).await;
        let took = start.elapsed();
        assert!(
            matches!(&o, Outcome::Unconfirmed(w) if w.contains("did not answer within 1.5s")),
            "{o:?}"
        );
        assert!(sent);
        assert!(
            took >= T.response && took < T.response + Duration::from_secs(1),
            "{took:?}"
        );
        h.abort();
    }

    #[tokio::test]
    async fn a_connection_closed_after_the_body_is_unconfirmed() {
        let (url, h) = server(|s| async move { drop(s) }).await;
        let (o, sent) = run(&url).await;
        assert!(
            matches!(&o, Outcome::Unconfirmed(w) if w.contains("connection failed")),
            "{o:?}"
        );
        assert!(sent);
        h.await.unwrap();
    }

    #[tokio::test]
    async fn answered_errors_and_refused_connections_are_retryable() {
        let (url, h) = server(|s| reply(s, "503 Service Unavailable", "")).await;
        let (o, sent) = run(&url).await;
        assert!(
            matches!(&o, Outcome::Failed(w) if w.starts_with("HTTP 503")),
            "{o:?}"
        );
        assert!(sent);
        h.await.unwrap();
        let (url, h) = server(|s| reply(s, "429 Too Many Requests", "Retry-After: 3\r\n")).await;
        let (o, _) = run(&url).await;
        assert!(
            matches!(o, Outcome::RetryAfter(d) if d == Duration::from_secs(3)),
            "{o:?}"
        );
        h.await.unwrap();
        let (url, h) = server(|s| reply(s, "400 Bad Request", "")).await;
        assert!(matches!(run(&url).await.0, Outcome::Rejected(_)));
        h.await.unwrap();
        // Nobody listens: refused before anything was sent.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (o, sent) = run(&Secret::new(format!("http://127.0.0.1:{port}/x"))).await;
        assert!(matches!(o, Outcome::Failed(_)), "{o:?}");
        assert!(!sent, "a refused connection never sent the body");
    }

    #[tokio::test]
    async fn a_server_that_accepts_but_never_reads_the_head_times_out_retryably() {
        // A listener whose backlog takes the connection but nobody accepts:
        // TCP completes, the request head and body sit in the kernel's buffers.
        // hyper hands the body over right after the head, so this counts as sent.
        // The retryable case is a connection that does not complete in time:
        // an address that drops SYNs is not available here, so the send phase
        // timeout is checked with a server that accepts and never answers the
        // TLS handshake (an https URL to a plain listener that stays silent).
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Secret::new(format!("https://{}/x", l.local_addr().unwrap()));
        let h = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(s);
        });
        let start = std::time::Instant::now();
        let (o, sent) = run(&url).await;
        assert!(
            matches!(&o, Outcome::Failed(w) if w.contains("within 0.3s")),
            "{o:?}"
        );
        assert!(!sent);
        assert!(start.elapsed() < Duration::from_secs(1));
        h.abort();
    }
}
