//! `metrics.listen`: `GET /metrics` on a loopback address (the spec refuses any
//! other), served by hyper's HTTP/1 server. The endpoint has no authentication,
//! so it holds nothing secret and it is bounded against a hostile local client:
//! at most [`MAX_CONNECTIONS`] at once (more wait in the kernel backlog), 5 s to
//! send the request head, [`MAX_HEAD`] bytes of head, one request per connection,
//! and [`CONNECTION_DEADLINE`] for the whole exchange.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub(crate) const MAX_CONNECTIONS: usize = 8;
pub(crate) const MAX_HEAD: usize = 16 * 1024;
pub(crate) const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);

/// The content type of the classic Prometheus text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, thiserror::Error)]
#[error("metrics.listen {addr}: cannot listen: {source} (choose a free loopback port)")]
pub(crate) struct ListenError {
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// Binds `addr` (so a busy port is reported at once), then serves until `stop` turns true.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError { addr, source })
}

pub(crate) async fn serve(listener: TcpListener, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.cancelled() => return,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::debug!("metrics endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .max_buf_size(MAX_HEAD)
                .keep_alive(false)
                .serve_connection(
                    TokioIo::new(stream),
                    hyper::service::service_fn(|req| async move {
                        Ok::<_, hyper::Error>(respond(&req))
                    }),
                );
            if let Ok(Err(e)) = tokio::time::timeout(CONNECTION_DEADLINE, conn).await {
                tracing::debug!("metrics endpoint: connection ended: {e}");
            }
            drop(permit);
        });
    }
}

fn respond(req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        Response::builder()
            .status(status)
            .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Full::new(Bytes::from(body)))
            .expect("a valid response")
    };
    if req.uri().path() != "/metrics" {
        return reply(
            StatusCode::NOT_FOUND,
            "only /metrics is served here\n".into(),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "use GET\n".into());
    }
    reply(
        StatusCode::OK,
        super::registry::global().encode(crate::clock::now_unix()),
    )
}
