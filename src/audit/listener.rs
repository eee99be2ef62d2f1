//! The sockets OpenBao's socket audit device connects to: accepting. Each
//! connection is checked ([`super::peer`]) and read by its own task
//! ([`super::connection`]) into its own lanes in the hub, never waiting on the
//! rules or on Slack (see [`super::ingest`] for priority, fairness and
//! overload). Limits: `maxConnections` here; `idleTimeout` after a partial
//! line and the memory budget for partial lines per connection;
//! rate-limited log lines.

use super::bind::Bound;
use super::connection::read_connection;
use super::peer::PeerPolicy;
use super::sink::Sink;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A stream and who is on the other end.
pub(crate) type Accepted = (Box<dyn AsyncRead + Unpin + Send>, Result<String, String>);

/// Accepts connections until shutdown. Each accepted peer is checked (see
/// [`super::peer`]); refused ones are closed at once and counted. At the
/// connection cap a connection that never sent a complete line and has been
/// silent for a second is closed to make room (or one of the server's silent
/// for `idleTimeout`), else the new one is refused: the cap holds, never the
/// file descriptor limit. Accept errors (EMFILE...) are logged at most
/// once a minute with a count.
pub(crate) async fn accept_loop(
    bound: Bound,
    sink: Sink,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
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
