//! Reading one accepted connection: framing, the idle timeout after a partial
//! line, eviction, the memory charged for a partial line, and the short drain
//! after shutdown.

use super::frame::Framer;
use super::ingest::Conn;
use super::sink::Sink;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::sync::CancellationToken;

/// How long connections may still be read after shutdown begins.
pub(crate) const DRAIN_GRACE: Duration = Duration::from_millis(1000);

/// Bytes of a partial line each connection can always hold (the budget keeps
/// room for them): enough for any ordinary audit line, so the Vault server's
/// lines are framed however many partial lines others hold.
pub(crate) const FREE_PARTIAL: usize = 64 << 10;
/// Bytes read at a time per connection.
pub(crate) const READ_BUF: usize = 16 << 10;

/// Reads one connection to its end, until it is evicted, until it has been
/// silent for `idle_timeout` after a partial line, or until shortly after
/// shutdown.
pub(crate) async fn read_connection(
    mut stream: Box<dyn AsyncRead + Unpin + Send>,
    conn: Arc<Conn>,
    sink: Sink,
    shutdown: CancellationToken,
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
                            crate::clock::duration_words(sink.idle_timeout)
                        ));
                        break;
                    }
                },
                _ = conn.evict.notified() => {
                    c.evicted.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                _ = shutdown.cancelled() => {
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
                charged = charge_partial(&sink, &mut framer, charged);
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

/// Charges the budget for the partial line's buffer (`charged` bytes are
/// charged so far; returns what is charged now). Beyond [`FREE_PARTIAL`] it
/// may only use what leaves every connection room for `FREE_PARTIAL`; a line
/// that does not fit is abandoned and counted. What the buffer no longer
/// holds is given back.
fn charge_partial(sink: &Sink, framer: &mut Framer, mut charged: usize) -> usize {
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
            sink.counters.over_budget.fetch_add(1, Ordering::Relaxed);
        }
    }
    let want = framer.capacity();
    if want < charged {
        sink.hub.budget.give(charged - want);
        charged = want;
    }
    charged
}

#[cfg(test)]
mod tests;
