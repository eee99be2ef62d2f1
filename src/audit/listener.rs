//! The sockets OpenBao's socket audit device connects to. Each connection is
//! checked ([`super::peer`]) and read by its own task into a [`Framer`];
//! complete lines go to its own lanes in the [`Hub`], never waiting on the
//! rules or on Slack (see [`super::ingest`] for priority, fairness and
//! overload). Limits: `maxConnections`, `idleTimeout` after a partial line,
//! the memory budget for partial lines, rate-limited log lines.

use super::frame::{Frame, Framer};
use super::ingest::{Conn, Hub, Offer};
use super::peer::PeerPolicy;
use super::prefilter::Prefilter;
use super::ratelog::RateLog;
use super::stats::ReaderCounters;
use crate::spec::audit::address::ListenAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
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

pub fn group_id(name: &str) -> std::io::Result<nix::unistd::Gid> {
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
    pub hub: Arc<Hub>,
    pub prefilter: Arc<Prefilter>,
    pub counters: Arc<ReaderCounters>,
    pub policy: Arc<PeerPolicy>,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    pub logs: Arc<ListenerLogs>,
}

/// The listener's rate-limited log lines (at most one a minute each, with a count).
#[derive(Default)]
pub struct ListenerLogs {
    pub accept: RateLog,
    pub rejected: RateLog,
    pub limit: RateLog,
    pub idle: RateLog,
}

impl Sink {
    /// What partial lines beyond [`FREE_PARTIAL`] may fill of the budget: all
    /// of it but room for every connection's read buffer and first
    /// [`FREE_PARTIAL`] bytes.
    fn partial_cap(&self) -> usize {
        self.hub.queued_cap()
    }

    fn frame(&self, conn: &Conn, f: Frame<'_>) {
        let c = &self.counters;
        match f {
            Frame::Line(l) => {
                c.lines.fetch_add(1, Ordering::Relaxed);
                let prio = self.prefilter.candidate(l.as_bytes());
                match self.hub.offer(conn, l, prio) {
                    Offer::Queued => {}
                    Offer::Spilled => {
                        c.spilled.fetch_add(1, Ordering::Relaxed);
                    }
                    Offer::Overload => {
                        c.overload.fetch_add(1, Ordering::Relaxed);
                    }
                    Offer::Lost => {
                        c.priority_lost.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
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

/// A stream and who is on the other end.
pub type Accepted = (Box<dyn AsyncRead + Unpin + Send>, Result<String, String>);

/// Accepts connections until shutdown. Each accepted peer is checked (see
/// [`super::peer`]); refused ones are closed at once and counted. At the
/// connection cap a connection that never sent a complete line and has been
/// silent for a second is closed to make room (or one of the server's silent
/// for `idleTimeout`), else the new one is refused: the cap holds, never the
/// file descriptor limit. Accept errors (EMFILE...) are logged at most
/// once a minute with a count.
pub async fn accept_loop(
    bound: Bound,
    sink: Sink,
    shutdown: watch::Receiver<bool>,
    tasks: tokio_util_lite::TaskSet,
) {
    let mut stop = shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            r = accept(&bound, &sink.policy) => r,
        };
        let c = &sink.counters;
        match accepted {
            Ok((stream, Ok(peer))) => {
                let long = sink.idle_timeout.as_millis() as u64;
                if sink.hub.open() >= sink.max_connections
                    && !sink.hub.evict_most_silent(1000, long)
                {
                    c.rejected_limit.fetch_add(1, Ordering::Relaxed);
                    sink.logs.limit.warn(&format!(
                        "audit listener: {} connections are open (audit.maxConnections) and all are busy; refused a connection from {peer}",
                        sink.max_connections
                    ));
                    drop(stream);
                    continue;
                }
                let conn = sink.hub.register(peer);
                let sink = sink.clone();
                let sd = shutdown.clone();
                tasks.spawn(read_connection(stream, conn, sink, sd));
            }
            Ok((stream, Err(why))) => {
                c.rejected_peer.fetch_add(1, Ordering::Relaxed);
                sink.logs.rejected.warn(&format!(
                    "audit listener: refused a connection: {why} (allowed users: audit.peerUsers, remote addresses: audit.allowFrom)"
                ));
                drop(stream);
            }
            Err(e) => {
                c.accept_errors.fetch_add(1, Ordering::Relaxed);
                sink.logs
                    .accept
                    .warn(&format!("audit listener: accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn accept(b: &Bound, policy: &Arc<PeerPolicy>) -> std::io::Result<Accepted> {
    Ok(match b {
        Bound::Tcp(l) => {
            let (s, peer) = l.accept().await?;
            let _ = s.set_nodelay(true);
            let who = match s.local_addr() {
                // A kernel lookup (netlink, or /proc as a fallback): off the async workers.
                Ok(ours) => {
                    let p = policy.clone();
                    tokio::task::spawn_blocking(move || p.check_tcp(ours, peer))
                        .await
                        .unwrap_or_else(|e| Err(format!("peer check failed: {e}")))
                }
                Err(e) => Err(format!("cannot read the local address: {e}")),
            };
            (Box::new(s), who)
        }
        Bound::Unix(l, _) => {
            let (s, _) = l.accept().await?;
            let who = match s.peer_cred() {
                Ok(cred) => policy.check_unix(cred.uid(), cred.gid()),
                Err(e) => Err(format!("cannot read the peer's credentials: {e}")),
            };
            (Box::new(s), who)
        }
    })
}

/// Bytes of a partial line each connection can always hold (the budget keeps
/// room for them): enough for any ordinary audit line, so the Vault server's
/// lines are framed however many partial lines others hold.
pub const FREE_PARTIAL: usize = 64 << 10;
/// Bytes read at a time per connection.
pub const READ_BUF: usize = 16 << 10;

/// Reads one connection to its end, until it is evicted, until it has been
/// silent for `idle_timeout` after a partial line, or until shortly after
/// shutdown.
pub async fn read_connection(
    mut stream: Box<dyn AsyncRead + Unpin + Send>,
    conn: Arc<Conn>,
    sink: Sink,
    mut shutdown: watch::Receiver<bool>,
) {
    let c = sink.counters.clone();
    c.connections.fetch_add(1, Ordering::Relaxed);
    c.open_connections.fetch_add(1, Ordering::Relaxed);
    let mut framer = Framer::new();
    let mut charged = 0usize;
    // The read buffer is part of the reserve `partial_cap` keeps free.
    let mut buf = vec![0u8; READ_BUF];
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let idle = if framer.pending() > 0 {
            sink.idle_timeout
        } else {
            Duration::from_secs(365 * 86400)
        };
        let read = match deadline {
            None => tokio::select! {
                r = tokio::time::timeout(idle, stream.read(&mut buf)) => match r {
                    Ok(r) => Some(r),
                    Err(_) => {
                        c.idle_closed.fetch_add(1, Ordering::Relaxed);
                        sink.logs.idle.warn(&format!(
                            "audit listener: closed a connection ({}) silent for {} after a partial line (audit.idleTimeout)",
                            conn.peer,
                            humantime::format_duration(sink.idle_timeout)
                        ));
                        break;
                    }
                },
                _ = conn.evict.notified() => {
                    c.evicted.fetch_add(1, Ordering::Relaxed);
                    break;
                }
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
                conn.last_read_ms
                    .store(sink.hub.now_ms(), Ordering::Relaxed);
                framer.feed(&buf[..n], &mut |f| sink.frame(&conn, f));
                // Charge the partial line's buffer. Beyond FREE_PARTIAL it may
                // only use what leaves every connection room for FREE_PARTIAL.
                let want = framer.capacity();
                if want > charged {
                    let cap = if want <= FREE_PARTIAL {
                        usize::MAX
                    } else {
                        sink.partial_cap()
                    };
                    if sink.hub.budget.try_take_within(want - charged, cap) {
                        charged = want;
                    } else {
                        framer.abandon();
                        c.over_budget.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let want = framer.capacity();
                if want < charged {
                    sink.hub.budget.give(charged - want);
                    charged = want;
                }
            }
            Some(Err(e)) => {
                tracing::debug!("audit connection closed: {e}");
                break;
            }
        }
    }
    framer.finish(&mut |f| sink.frame(&conn, f));
    drop(framer);
    sink.hub.budget.give(charged);
    conn.closed.store(true, Ordering::Release);
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
    use crate::audit::ingest::SpillArea;
    use std::os::unix::fs::MetadataExt;
    use std::sync::atomic::AtomicU64;

    fn sink(queue_bytes: usize, budget: usize, dir: &std::path::Path) -> Sink {
        Sink {
            hub: Hub::new(
                budget,
                queue_bytes,
                64 * (FREE_PARTIAL + READ_BUF),
                SpillArea {
                    dir: dir.to_path_buf(),
                    limit: 1 << 30,
                    used: AtomicU64::new(0),
                },
            ),
            prefilter: Arc::new(Prefilter::new([])),
            counters: Arc::new(ReaderCounters::default()),
            policy: Arc::new(PeerPolicy::resolve(&[], &[]).unwrap()),
            max_connections: 64,
            idle_timeout: Duration::from_secs(300),
            logs: Arc::default(),
        }
    }

    fn lines(n: usize, path: &str) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"type\":\"request\",\"request\":{{\"id\":\"r{i}\",\"path\":\"{path}\"}}}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    async fn read_all(s: &Sink, bytes: Vec<u8>) {
        let (_stop, shutdown) = watch::channel(false);
        let conn = s.hub.register("test".into());
        tokio::time::timeout(
            Duration::from_secs(5),
            read_connection(
                Box::new(std::io::Cursor::new(bytes)),
                conn,
                s.clone(),
                shutdown,
            ),
        )
        .await
        .expect("the reader waited on full lanes");
    }

    fn drain(s: &Sink) -> Vec<String> {
        let mut all = Vec::new();
        loop {
            let mut out = Vec::new();
            s.hub.round(&mut out);
            if out.is_empty() {
                return all;
            }
            all.extend(out);
        }
    }

    #[tokio::test]
    async fn full_lanes_count_ordinary_lines_as_overload_and_reading_never_waits() {
        let dir = tempfile::tempdir().unwrap();
        let line_len = lines(1, "secret/data/a").len() - 1;
        let s = sink(10 * line_len, 8 << 20, dir.path());
        // Nobody drains the lanes: the reader must still finish at once.
        read_all(&s, lines(1000, "secret/data/a")).await;
        let c = &s.counters;
        assert_eq!(c.lines.load(Ordering::Relaxed), 1000);
        assert_eq!(c.overload.load(Ordering::Relaxed), 990);
        assert_eq!(c.open_connections.load(Ordering::Relaxed), 0);
        let got = drain(&s);
        assert_eq!(got.len(), 10);
        assert!(got[0].contains("\"r0\"") && got[9].contains("\"r9\""));
        assert_eq!(s.hub.budget.used(), 0);
    }

    #[tokio::test]
    async fn security_relevant_lines_are_never_dropped_they_spill() {
        let dir = tempfile::tempdir().unwrap();
        // Queued lines have used what they may of the budget but 1000 bytes
        // (the reserve for reading stays free).
        let s = sink(1 << 20, 16 << 20, dir.path());
        assert!(s.hub.budget.try_take(s.hub.queued_cap() - 1000));
        read_all(&s, lines(5000, "sys/policies/acl/p")).await;
        let c = &s.counters;
        assert_eq!(c.overload.load(Ordering::Relaxed), 0);
        assert_eq!(c.priority_lost.load(Ordering::Relaxed), 0);
        assert!(c.spilled.load(Ordering::Relaxed) >= 4900);
        let got = drain(&s);
        assert_eq!(got.len(), 5000);
        for (i, l) in got.iter().enumerate() {
            assert!(l.contains(&format!("\"r{i}\"")), "in order: {l}");
        }
    }

    #[tokio::test]
    async fn partial_lines_beyond_the_allowance_are_charged_and_abandoned_when_over_budget() {
        let dir = tempfile::tempdir().unwrap();
        let s = sink(1 << 20, 16 << 20, dir.path());
        let taken = s.hub.queued_cap() - (200 << 10);
        assert!(s.hub.budget.try_take(taken));
        let mut big = vec![b'x'; 900 << 10];
        big.extend_from_slice(b"\n");
        big.extend_from_slice(&lines(1, "sys/seal"));
        read_all(&s, big).await;
        assert_eq!(s.counters.over_budget.load(Ordering::Relaxed), 1);
        assert_eq!(drain(&s).len(), 1, "the next line still gets through");
        assert_eq!(s.hub.budget.used(), taken, "all given back");
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
