//! The systemd end of `$NOTIFY_SOCKET` for tests: the daemon's `READY=1`,
//! `STATUS=`, `WATCHDOG=1` messages, every one checked for secrets.

use super::run::assert_no_secret_in;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The fake systemd end of `$NOTIFY_SOCKET`.
pub struct NotifySocket {
    sock: UnixDatagram,
    pub path: PathBuf,
    pub seen: Vec<String>,
}

impl NotifySocket {
    pub fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        NotifySocket {
            sock,
            path,
            seen: Vec::new(),
        }
    }

    /// Waits for a message satisfying `pred`; returns it. Every message is kept in `seen`.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.sock.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                assert_no_secret_in(&msg, "a notify message");
                self.seen.push(msg.clone());
                if pred(&msg) {
                    return msg;
                }
            }
        }
        panic!(
            "no notify message {what} within {timeout:?}; seen: {:#?}",
            self.seen
        );
    }

    /// Waits for `READY=1`; returns the message.
    pub fn wait_ready(&mut self, timeout: Duration) -> String {
        self.wait_for("READY=1", timeout, |m| m.starts_with("READY=1"))
    }

    pub fn drain(&mut self) {
        let mut buf = vec![0u8; 4096];
        self.sock.set_nonblocking(true).unwrap();
        while let Ok(n) = self.sock.recv(&mut buf) {
            self.seen
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        self.sock.set_nonblocking(false).unwrap();
    }
}
