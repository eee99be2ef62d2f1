//! Ask vaultkeeper in Slack: an HTTP endpoint for Slack slash commands
//! (`/vault status|posture|leases|usage|updates|help`), run by
//! `vaultkeeper chat serve` and by `vaultkeeper run` when the spec has a
//! `chat` section. It listens on loopback behind a TLS reverse proxy.
//!
//! Every request is checked before anything else is done with it, in this
//! order: POST only; body at most [`MAX_BODY`] bytes (refused from its
//! Content-Length, and cut off while reading); the signature and timestamp
//! exactly as Slack documents them ([`verify`]); a signature accepted before is
//! refused (replay). Refusals answer a bare 401 (413 for a body too large), and
//! are logged at most [`ratelog::PER_WINDOW`] lines a minute. Only then do the
//! allow lists apply (403). The signing secret comes from its file
//! ([`secret_file`]) and is never logged.
//!
//! Commands are read-only and answered with the digest's Block Kit blocks
//! ([`render`]) within Slack's 3 seconds: from a snapshot younger than
//! `chat.collectionInterval` at once (when the server's seal state is still
//! the snapshot's), else from a collection that finishes
//! within [`INLINE_WAIT`], else with an acknowledgement now and the full answer
//! POSTed to the command's `response_url` when it is ready. A `response_url`
//! must be `https://hooks.slack.com/...` ([`check_response_url`]): the endpoint
//! never sends anything anywhere else.
//!
//! - [`crate::spec::chat`]: the `chat` section; [`verify`]: signatures and replays;
//!   [`secret_file`]: the signing secret; [`command`]: the form and the words;
//!   [`collect`]: snapshots; [`render`]: Block Kit; [`server`]: HTTP (hyper);
//!   [`ratelog`]: rate-limited logging.

pub(crate) mod collect;
pub(crate) mod command;
pub(crate) mod ratelog;
pub(crate) mod render;
pub(crate) mod secret_file;
pub(crate) mod server;
pub(crate) mod verify;

pub(crate) use crate::spec::chat::ChatSpec;

use crate::spec::Spec;
use bytes::Bytes;
use command::{loggable_id, parse_ask, parse_form, Ask, SlashCommand};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// Slack's payloads are a few hundred bytes; anything above this is refused.
pub(crate) const MAX_BODY: usize = 16 * 1024;
/// How long a request may take to send its body.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a command waits for a collection before acknowledging instead
/// (Slack gives up after 3 s, and the proxy and the network take their share).
pub(crate) const INLINE_WAIT: Duration = Duration::from_millis(1500);
/// Answers waiting to be POSTed to their `response_url` at most.
pub(crate) const MAX_FOLLOW_UPS: usize = 32;
/// Slack's `response_url` stays valid 30 minutes; an answer later than this is dropped.
pub(crate) const FOLLOW_UP_MAX: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ChatError {
    #[error("the spec has no chat section: add chat.listen and chat.signingSecretFile (see docs/how-to/ask-in-slack.md)")]
    NotConfigured,
    #[error(
        "cannot listen on {addr} for Slack commands: {source}; pick a free address for chat.listen"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client for Slack's response_url: {0}")]
    Client(String),
}

impl ChatError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            ChatError::NotConfigured | ChatError::Bind { .. } => crate::exit::USAGE,
            ChatError::Client(_) => crate::exit::INTERNAL,
        }
    }
}

/// Everything one endpoint shares between its requests.
pub(crate) struct App {
    pub chat: ChatSpec,
    host: String,
    secret: secret_file::SigningSecret,
    replay: verify::ReplayGuard,
    refusals: ratelog::RateLog,
    errors: ratelog::RateLog,
    collector: Arc<collect::Collector>,
    follow_ups: Arc<Semaphore>,
    http: reqwest::Client,
}

impl App {
    pub(crate) fn new(
        chat: ChatSpec,
        spec: watch::Receiver<Arc<Spec>>,
    ) -> Result<Arc<App>, ChatError> {
        let host = crate::host::hostname();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .https_only(chat.test_response_origin.is_none())
            .build()
            .map_err(|e| ChatError::Client(e.to_string()))?;
        Ok(Arc::new(App {
            secret: secret_file::SigningSecret::new(&chat.signing_secret_file),
            replay: verify::ReplayGuard::default(),
            refusals: ratelog::RateLog::default(),
            errors: ratelog::RateLog::default(),
            collector: Arc::new(collect::Collector::new(host.clone(), spec)),
            follow_ups: Arc::new(Semaphore::new(MAX_FOLLOW_UPS)),
            host,
            http,
            chat,
        }))
    }

    /// Says at start whether the signing secret can be read (it may be a
    /// secret this agent renders a moment later).
    pub(crate) fn check_secret(&self) {
        if let Err(e) = self.secret.current() {
            tracing::warn!("chat: {e}; commands are refused until it can be read");
        }
    }

    fn refuse(&self, status: StatusCode, peer: SocketAddr, why: &str) -> Response<Full<Bytes>> {
        self.refusals
            .warn(|| format!("chat: refused a request from {peer} ({status}): {why}"));
        bare(status)
    }

    /// One HTTP request: checks, then the command.
    pub(crate) async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Full<Bytes>> {
        if req.method() != Method::POST {
            return self.refuse(StatusCode::METHOD_NOT_ALLOWED, peer, "not a POST");
        }
        let declared = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return self.refuse(StatusCode::PAYLOAD_TOO_LARGE, peer, "body too large");
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (timestamp, signature) = (
            header("x-slack-request-timestamp"),
            header("x-slack-signature"),
        );
        let body = match tokio::time::timeout(
            BODY_TIMEOUT,
            Limited::new(req.into_body(), MAX_BODY).collect(),
        )
        .await
        {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return self.refuse(StatusCode::PAYLOAD_TOO_LARGE, peer, "body too large");
            }
            Ok(Err(_)) => return self.refuse(StatusCode::BAD_REQUEST, peer, "unreadable body"),
            Err(_) => {
                return self.refuse(StatusCode::REQUEST_TIMEOUT, peer, "body not sent in time")
            }
        };
        if command::is_ssl_check(&body) {
            // Slack checks the certificate of a new Request URL this way and
            // wants a 200; nothing is done, nothing is answered.
            tracing::debug!("chat: Slack's ssl_check from {peer}");
            return bare(StatusCode::OK);
        }
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return self.refuse(
                StatusCode::UNAUTHORIZED,
                peer,
                verify::Refusal::MissingHeaders.words(),
            );
        };
        let secret = match self.secret.current() {
            Ok(s) => s,
            Err(e) => {
                self.errors
                    .error(|| format!("chat: {e}; every command is refused until it can be read"));
                return bare(StatusCode::SERVICE_UNAVAILABLE);
            }
        };
        let now = crate::clock::now_unix();
        let verified = verify::verify(
            secret.expose().as_bytes(),
            &timestamp,
            &signature,
            &body,
            now,
        )
        .and_then(|(ts, sig)| self.replay.check(sig, ts, now));
        drop(secret);
        if let Err(r) = verified {
            return self.refuse(StatusCode::UNAUTHORIZED, peer, r.words());
        }
        let cmd = parse_form(&body);
        let listed = |list: &[String], id: &str| list.is_empty() || list.iter().any(|x| x == id);
        if !listed(&self.chat.allowed_channels, &cmd.channel_id) {
            return self.refuse(
                StatusCode::FORBIDDEN,
                peer,
                &format!(
                    "channel {} is not in chat.allowedChannels (user {})",
                    loggable_id(&cmd.channel_id),
                    loggable_id(&cmd.user_id)
                ),
            );
        }
        if !listed(&self.chat.allowed_users, &cmd.user_id) {
            return self.refuse(
                StatusCode::FORBIDDEN,
                peer,
                &format!(
                    "user {} is not in chat.allowedUsers (channel {})",
                    loggable_id(&cmd.user_id),
                    loggable_id(&cmd.channel_id)
                ),
            );
        }
        let answer = self.answer(cmd).await;
        let mut resp = Response::new(Full::new(Bytes::from(
            serde_json::to_vec(&answer).expect("answers serialize"),
        )));
        resp.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        resp
    }

    fn respond(&self, snap: &collect::Snapshot) -> Value {
        render::respond(
            &snap.answer,
            self.chat.response_type.as_str(),
            snap.collected_at,
            crate::clock::now_unix(),
        )
    }

    async fn answer(&self, cmd: SlashCommand) -> Value {
        let rt = self.chat.response_type.as_str();
        let now = crate::clock::now_unix();
        let ask = match parse_ask(&cmd.text) {
            Ok(a) => a,
            Err(word) => {
                return render::respond(
                    &render::help(&self.host, &cmd.command, Some(&word)),
                    rt,
                    None,
                    now,
                )
            }
        };
        tracing::info!(
            "chat: {} from user {} in channel {}",
            ask.word(),
            loggable_id(&cmd.user_id),
            loggable_id(&cmd.channel_id)
        );
        if ask == Ask::Help {
            return render::respond(&render::help(&self.host, &cmd.command, None), rt, None, now);
        }
        if let Some(s) = self
            .collector
            .fresh_checked(ask, self.chat.collection_interval)
            .await
        {
            return self.respond(&s);
        }
        let pending = self.collector.start(ask);
        if let Ok(s) = tokio::time::timeout(INLINE_WAIT, pending.clone()).await {
            return self.respond(&s);
        }
        // Slower than Slack waits: acknowledge now, answer at the response_url.
        let Some(url) =
            check_response_url(&cmd.response_url, self.chat.test_response_origin.as_deref())
        else {
            self.errors.warn(|| {
                "chat: a command's response_url is not https://hooks.slack.com/...; its answer is not sent there".to_string()
            });
            return render::respond(&render::busy(&self.host), rt, None, now);
        };
        let Ok(permit) = self.follow_ups.clone().try_acquire_owned() else {
            self.errors.warn(|| {
                format!("chat: {MAX_FOLLOW_UPS} answers already wait for Vault; asking the user to try again")
            });
            return render::respond(&render::busy(&self.host), rt, None, now);
        };
        let http = self.http.clone();
        let rt_owned = rt.to_string();
        let word = ask.word();
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(snap) = tokio::time::timeout(FOLLOW_UP_MAX, pending).await else {
                tracing::warn!("chat: the {word} was not collected in time; no answer sent");
                return;
            };
            let body = render::respond(
                &snap.answer,
                &rt_owned,
                snap.collected_at,
                crate::clock::now_unix(),
            );
            post_follow_up(&http, url, &body, word).await;
        });
        render::respond(&render::ack(&self.host, ask), rt, None, now)
    }
}

/// POSTs an answer to a `response_url` (three tries). The URL is a credential
/// for the channel: it is never logged.
async fn post_follow_up(http: &reqwest::Client, url: reqwest::Url, body: &Value, word: &str) {
    for attempt in 1..=3u32 {
        match http.post(url.clone()).json(body).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!("chat: the {word} answer was posted to Slack");
                return;
            }
            Ok(r) if r.status().is_client_error() => {
                tracing::warn!(
                    "chat: Slack refused the {word} answer (HTTP {}); the response_url may have expired",
                    r.status()
                );
                return;
            }
            Ok(r) => tracing::warn!(
                "chat: posting the {word} answer failed (HTTP {}), try {attempt} of 3",
                r.status()
            ),
            Err(e) => tracing::warn!(
                "chat: posting the {word} answer failed ({}), try {attempt} of 3",
                e.without_url()
            ),
        }
        tokio::time::sleep(Duration::from_secs(attempt as u64)).await;
    }
}

/// A `response_url` is followed only when it is `https://hooks.slack.com/...`
/// (default port, no user info), or, for the test suite only, on the single
/// loopback origin `chat.testResponseOrigin` names. Anything else would let
/// whoever controls a request's body make this host send requests elsewhere.
pub(crate) fn check_response_url(raw: &str, test_origin: Option<&str>) -> Option<reqwest::Url> {
    if raw.is_empty() || raw.len() > 2048 {
        return None;
    }
    let u = reqwest::Url::parse(raw).ok()?;
    if !u.username().is_empty() || u.password().is_some() || u.fragment().is_some() {
        return None;
    }
    if u.scheme() == "https" && u.host_str() == Some("hooks.slack.com") && u.port().is_none() {
        return Some(u);
    }
    match test_origin {
        Some(o) if u.origin().ascii_serialization() == o => Some(u),
        _ => None,
    }
}

fn bare(status: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests;
