//! The sockets OpenBao's socket audit device connects to. Each connection is
//! read by its own task into a [`Framer`]; complete lines go to the rule engine
//! through a bounded queue with `try_send`, so reading never waits on the rules
//! or on Slack. When the queue is full a line is counted as overload instead.

use super::frame::{Frame, Framer};
use super::spec::ListenAddr;
use super::stats::ReaderCounters;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;

/// How long connections may still be read after shutdown begins.
pub const DRAIN_GRACE: Duration = Duration::from_millis(1000);

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source} (is another vaultkeeper or program using it? change audit.listen)")]
pub struct BindError {
    pub addr: String,
    #[source]
    pub source: std::io::Error,
}

pub enum Bound {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

/// Binds every address before anything else, so OpenBao finds the device up.
pub async fn bind(addrs: &[ListenAddr]) -> Result<Vec<Bound>, BindError> {
    let mut out = Vec::new();
    for a in addrs {
        let err = |source| BindError {
            addr: a.to_string(),
            source,
        };
        match a {
            ListenAddr::Tcp(sa) => out.push(Bound::Tcp(TcpListener::bind(sa).await.map_err(err)?)),
            ListenAddr::Unix(p) => {
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(err)?;
                }
                // A stale socket from a previous run; never remove anything else.
                if let Ok(meta) = std::fs::symlink_metadata(p) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        std::fs::remove_file(p).map_err(err)?;
                    }
                }
                let l = UnixListener::bind(p).map_err(err)?;
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
                out.push(Bound::Unix(l, p.clone()));
            }
        }
    }
    Ok(out)
}

/// What every connection task shares.
#[derive(Clone)]
pub struct Sink {
    pub tx: SyncSender<String>,
    pub queued: Arc<AtomicUsize>,
    pub max_bytes: usize,
    pub counters: Arc<ReaderCounters>,
}

impl Sink {
    fn offer(&self, line: &str) {
        let c = &self.counters;
        c.lines.fetch_add(1, Ordering::Relaxed);
        let len = line.len();
        if self.queued.load(Ordering::Relaxed) + len > self.max_bytes {
            c.overload.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        match self.tx.try_send(line.to_string()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(len, Ordering::Relaxed);
                c.overload.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn frame(&self, f: Frame<'_>) {
        let c = &self.counters;
        match f {
            Frame::Line(l) => self.offer(l),
            Frame::TooLong => {
                c.too_long.fetch_add(1, Ordering::Relaxed);
            }
            Frame::InvalidUtf8 => {
                c.invalid_utf8.fetch_add(1, Ordering::Relaxed);
            }
            Frame::Empty => {
                c.empty.fetch_add(1, Ordering::Relaxed);
            }
            Frame::Partial => {
                c.partial.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Accepts connections until shutdown; each gets its own reading task.
pub async fn accept_loop(
    bound: Bound,
    sink: Sink,
    shutdown: watch::Receiver<bool>,
    tasks: tokio_util_lite::TaskSet,
) {
    let mut stop = shutdown.clone();
    loop {
        let accepted: std::io::Result<Box<dyn AsyncRead + Unpin + Send>> = tokio::select! {
            _ = stop.changed() => return,
            r = accept(&bound) => r,
        };
        match accepted {
            Ok(stream) => {
                let sink = sink.clone();
                let sd = shutdown.clone();
                tasks.spawn(read_connection(stream, sink, sd));
            }
            Err(e) => {
                tracing::warn!("audit listener: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn accept(b: &Bound) -> std::io::Result<Box<dyn AsyncRead + Unpin + Send>> {
    Ok(match b {
        Bound::Tcp(l) => {
            let (s, _) = l.accept().await?;
            let _ = s.set_nodelay(true);
            Box::new(s)
        }
        Bound::Unix(l, _) => Box::new(l.accept().await?.0),
    })
}

/// Reads one connection to its end (or until shortly after shutdown).
pub async fn read_connection(
    mut stream: Box<dyn AsyncRead + Unpin + Send>,
    sink: Sink,
    mut shutdown: watch::Receiver<bool>,
) {
    let c = sink.counters.clone();
    c.connections.fetch_add(1, Ordering::Relaxed);
    c.open_connections.fetch_add(1, Ordering::Relaxed);
    let mut framer = Framer::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let read = match deadline {
            None => tokio::select! {
                r = stream.read(&mut buf) => Some(r),
                _ = shutdown.changed() => {
                    deadline = Some(tokio::time::Instant::now() + DRAIN_GRACE);
                    None
                }
            },
            Some(d) => match tokio::time::timeout_at(d, stream.read(&mut buf)).await {
                Ok(r) => Some(r),
                Err(_) => break,
            },
        };
        match read {
            None => continue,
            Some(Ok(0)) => break,
            Some(Ok(n)) => {
                c.bytes.fetch_add(n as u64, Ordering::Relaxed);
                framer.feed(&buf[..n], &mut |f| sink.frame(f));
            }
            Some(Err(e)) => {
                tracing::debug!("audit connection closed: {e}");
                break;
            }
        }
    }
    framer.finish(&mut |f| sink.frame(f));
    c.open_connections.fetch_sub(1, Ordering::Relaxed);
}

/// A minimal set of tasks we can wait for (no extra dependency).
pub mod tokio_util_lite {
    use std::sync::{Arc, Mutex};
    use tokio::task::JoinHandle;

    #[derive(Clone, Default)]
    pub struct TaskSet(Arc<Mutex<Vec<JoinHandle<()>>>>);

    impl TaskSet {
        pub fn spawn(&self, f: impl std::future::Future<Output = ()> + Send + 'static) {
            let mut v = self.0.lock().unwrap();
            v.retain(|h| !h.is_finished());
            v.push(tokio::spawn(f));
        }

        /// Waits for every task spawned so far (and those they spawn meanwhile).
        pub async fn join_all(&self) {
            loop {
                let hs: Vec<JoinHandle<()>> = std::mem::take(&mut *self.0.lock().unwrap());
                if hs.is_empty() {
                    return;
                }
                for h in hs {
                    let _ = h.await;
                }
            }
        }
    }
}
