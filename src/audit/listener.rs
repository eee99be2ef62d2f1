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
/// `unix:` sockets get mode 0660 and `group` (a name) before they appear at
/// their path.
pub async fn bind(addrs: &[ListenAddr], group: Option<&str>) -> Result<Vec<Bound>, BindError> {
    let mut out = Vec::new();
    for a in addrs {
        let err = |source| BindError {
            addr: a.to_string(),
            source,
        };
        match a {
            ListenAddr::Tcp(sa) => out.push(Bound::Tcp(TcpListener::bind(sa).await.map_err(err)?)),
            ListenAddr::Unix(p) => {
                let gid = match group {
                    None => None,
                    Some(g) => Some(group_id(g).map_err(err)?),
                };
                out.push(Bound::Unix(bind_unix(p, gid).map_err(err)?, p.clone()));
            }
        }
    }
    Ok(out)
}

fn group_id(name: &str) -> std::io::Result<nix::unistd::Gid> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("group {name:?} (audit.socketGroup) does not exist; create it or change audit.socketGroup"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Binds in a fresh private (0700) directory beside `path`, where nobody else
/// can connect, sets mode 0660 and the group, then renames the socket into
/// place: at its path it is never reachable with other permissions, whatever
/// the umask.
fn bind_unix(
    path: &std::path::Path,
    gid: Option<nix::unistd::Gid>,
) -> std::io::Result<UnixListener> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no parent directory")
        })?;
    std::fs::create_dir_all(parent)?;
    // A stale socket from a previous run; never remove anything else.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "something that is not a socket is in the way; remove it or change audit.listen",
            ));
        }
    }
    let private = tempfile::Builder::new()
        .prefix(".vaultkeeper-bind.")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(parent)?;
    let tmp = private.path().join("s");
    let l = UnixListener::bind(&tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o660))?;
    if let Some(gid) = gid {
        nix::unistd::chown(&tmp, None, Some(gid))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(l)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::Engine;
    use crate::audit::spec::AuditSpec;
    use std::os::unix::fs::MetadataExt;
    use std::sync::mpsc::sync_channel;

    fn sink(queue_lines: usize, max_bytes: usize) -> (Sink, std::sync::mpsc::Receiver<String>) {
        let (tx, rx) = sync_channel(queue_lines);
        let s = Sink {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            max_bytes,
            counters: Arc::new(ReaderCounters::default()),
        };
        (s, rx)
    }

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"type\":\"request\",\"request\":{{\"id\":\"r{i}\"}}}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[tokio::test]
    async fn a_full_queue_is_counted_as_overload_and_reading_never_waits() {
        let (s, rx) = sink(2, 16 << 20);
        let (_stop, shutdown) = watch::channel(false);
        let stream = Box::new(std::io::Cursor::new(lines(1000)));
        // Nobody drains the queue: the reader must still finish at once.
        tokio::time::timeout(
            Duration::from_secs(5),
            read_connection(stream, s.clone(), shutdown),
        )
        .await
        .expect("the reader waited on a full queue");
        let c = &s.counters;
        assert_eq!(c.lines.load(Ordering::Relaxed), 1000);
        assert_eq!(c.overload.load(Ordering::Relaxed), 998);
        assert_eq!(c.open_connections.load(Ordering::Relaxed), 0);
        // The queue holds the first lines, in order; the byte count matches.
        let first: Vec<String> = rx.try_iter().collect();
        assert_eq!(first.len(), 2);
        assert!(first[0].contains("\"r0\"") && first[1].contains("\"r1\""));
        assert_eq!(
            s.queued.load(Ordering::Relaxed),
            first.iter().map(String::len).sum::<usize>(),
            "bytes of the queued lines (the engine subtracts them as it takes them)"
        );
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_the_queue_too() {
        let line_len = lines(1).len() - 1;
        let (s, rx) = sink(1_000_000, 10 * line_len);
        let (_stop, shutdown) = watch::channel(false);
        read_connection(
            Box::new(std::io::Cursor::new(lines(100))),
            s.clone(),
            shutdown,
        )
        .await;
        assert_eq!(rx.try_iter().count(), 10);
        assert_eq!(s.counters.overload.load(Ordering::Relaxed), 90);
    }

    #[test]
    fn the_engine_turns_overload_into_one_coalesced_alert() {
        let spec = AuditSpec::defaults();
        let mut e = Engine::new(&spec);
        let mut out = Vec::new();
        e.overloaded(998, 1_000, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "audit-overload");
        assert_eq!(out[0].count, 998);
        assert_eq!(
            out[0].title,
            "998 audit lines were not evaluated (agent overloaded)"
        );
        // More within the window coalesces into the follow-up, not a new alert.
        e.overloaded(5, 2_000, &mut out);
        e.overloaded(0, 3_000, &mut out);
        assert_eq!(out.len(), 1);
        e.flush(&mut out);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(out[1].summary);
        assert_eq!(out[1].count, 1, "one more overload event in the window");
    }

    #[tokio::test]
    async fn unix_sockets_appear_with_their_mode_and_group_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/audit.sock");
        // The running group: a group the test may give the socket to even
        // unprivileged, and that exists in the Nix build sandbox.
        let gid = nix::unistd::getegid();
        let l = bind_unix(&path, Some(gid)).unwrap();
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o660);
        assert_eq!(m.gid(), gid.as_raw());
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("audit.sock")],
            "no private directory left"
        );
        let _c = tokio::net::UnixStream::connect(&path).await.unwrap();
        assert!(l.accept().await.is_ok());
        drop(l);
        // A stale socket is replaced; anything else in the way is refused.
        assert!(bind_unix(&path, None).is_ok());
        let file = dir.path().join("run/not-a-socket");
        std::fs::write(&file, "x").unwrap();
        let e = bind_unix(&file, None).unwrap_err().to_string();
        assert!(e.contains("not a socket is in the way"), "{e}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
        let e = group_id("no-such-group-vk").unwrap_err().to_string();
        assert!(
            e.contains("group \"no-such-group-vk\" (audit.socketGroup) does not exist"),
            "{e}"
        );
    }
}
