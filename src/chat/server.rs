//! The HTTP/1.1 server: hyper 1 with hyper-util's tokio glue. Chosen over
//! axum because the endpoint is one route whose every step (body cap while
//! reading, constant-time check, bare status codes) we want in plain sight,
//! and because reqwest already brings hyper, hyper-util and http-body-util into
//! the build: the server adds no new crate to the tree.
//!
//! Bounds: at most [`MAX_CONNECTIONS`] connections at once (more are closed
//! at accept), request headers at most 8 KiB and sent within
//! [`HEADER_TIMEOUT`], a connection lives at most [`CONNECTION_LIFETIME`].

use super::App;
use crate::spec::Spec;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, DropGuard};

pub(crate) const MAX_CONNECTIONS: usize = 64;
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// hyper's smallest read buffer, which bounds the request head.
const MAX_HEAD: usize = 8192;

/// Binds `chat.listen`.
pub(crate) async fn bind(app: &App) -> Result<TcpListener, super::ChatError> {
    TcpListener::bind(app.chat.listen)
        .await
        .map_err(|source| super::ChatError::Bind {
            addr: app.chat.listen,
            source,
        })
}

/// Serves until `shutdown` resolves; then stops accepting and gives requests in
/// flight a second.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into());
    app.check_secret();
    tracing::info!(
        "chat: answering Slack commands on {addr} (signing secret from {}{}{})",
        app.secret.path().display(),
        if app.chat.allowed_channels.is_empty() {
            ", any channel".to_string()
        } else {
            format!(", {} allowed channel(s)", app.chat.allowed_channels.len())
        },
        if app.chat.allowed_users.is_empty() {
            ", any user".to_string()
        } else {
            format!(", {} allowed user(s)", app.chat.allowed_users.len())
        },
    );
    if let Some(o) = &app.chat.test_response_origin {
        tracing::warn!(
            "chat: chat.testResponseOrigin is set: answers may also be posted to {o}; this key is for the test suite only, remove it from a production spec"
        );
    }
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while conns.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and the like: do not spin.
                    app.errors.error(|| format!("chat: accept failed on {addr}: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            app.refusals.warn(|| {
                format!("chat: {MAX_CONNECTIONS} connections already open; closed one from {peer}")
            });
            drop(stream);
            continue;
        };
        let app = app.clone();
        conns.spawn(async move {
            let _permit = permit;
            let svc = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(req, peer).await) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
    app.collector.release().await;
    tracing::info!("chat: stopped listening on {addr}");
}

/// `vaultkeeper chat serve`: the endpoint alone, until `shutdown` resolves.
pub(crate) async fn run_standalone(
    spec: Spec,
    shutdown: impl Future<Output = ()>,
) -> Result<(), super::ChatError> {
    let chat = spec.chat.clone().ok_or(super::ChatError::NotConfigured)?;
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(spec));
    let app = App::new(chat, rx)?;
    let listener = bind(&app).await?;
    serve(listener, app, shutdown).await;
    Ok(())
}

/// The endpoint inside `vaultkeeper run`: started when the spec has a `chat`
/// section, restarted when that section changes, told about other changes.
pub(crate) struct ChatTask {
    pub spec: super::ChatSpec,
    stop: CancellationToken,
    /// Stops the endpoint if the task is dropped without [`ChatTask::stop`].
    _stop_on_drop: DropGuard,
    spec_tx: tokio::sync::watch::Sender<Arc<Spec>>,
    join: tokio::task::JoinHandle<()>,
}

impl ChatTask {
    pub(crate) fn spawn(spec: &Spec) -> Option<ChatTask> {
        let chat = spec.chat.clone()?;
        let (spec_tx, spec_rx) = tokio::sync::watch::channel(Arc::new(spec.clone()));
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let run = chat.clone();
        let join = tokio::spawn(async move {
            let app = match App::new(run, spec_rx) {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!("chat: {e}");
                    return;
                }
            };
            let listener = match bind(&app).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!("chat: {e}; Slack commands stay unanswered");
                    return;
                }
            };
            serve(listener, app, stopped.cancelled_owned()).await;
        });
        Some(ChatTask {
            spec: chat,
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
            spec_tx,
            join,
        })
    }

    /// Another spec with the same `chat` section (Vault address, AppRole...).
    pub(crate) fn update(&self, spec: &Spec) {
        let _ = self.spec_tx.send(Arc::new(spec.clone()));
    }

    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let mut join = self.join;
        if tokio::time::timeout(Duration::from_secs(3), &mut join)
            .await
            .is_err()
        {
            join.abort();
        }
    }
}
