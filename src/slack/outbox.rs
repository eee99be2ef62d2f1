//! The persistent outbox: `<stateDir>/<area>/outbox/` (0700), one file per
//! message (`<20-digit sequence>.json`, 0600, written atomically and fsynced).
//! The sender posts the lowest sequence first and deletes it only after Slack
//! accepted it, so messages survive an agent restart or a Slack outage and
//! arrive in order.

use crate::render::atomic::{
    ensure_private_dir, list_dir, open_dir_nofollow, read_file_at, replace_file, FsError,
};
use nix::unistd::{unlinkat, UnlinkatFlags};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Messages kept at most; older ones are dropped first (and counted) beyond this.
pub const MAX_MESSAGES: usize = 10_000;

/// One message for Slack: the webhook payload, and a short label for the logs
/// (a rule id, "digest", "sealed").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub label: String,
    pub payload: Value,
}

pub struct Outbox {
    dir: PathBuf,
    fd: OwnedFd,
    next: AtomicU64,
    pub dropped: AtomicU64,
}

impl Outbox {
    /// Opens (creating) `<state_dir>/<area>/outbox`.
    pub fn open(state_dir: &Path, area: &str) -> Result<Outbox, FsError> {
        let parent = state_dir.join(area);
        ensure_private_dir(&parent, 0o700)?;
        let dir = parent.join("outbox");
        let fd = ensure_private_dir(&dir, 0o700)?;
        let outbox = Outbox {
            dir,
            fd,
            next: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
        };
        let last = outbox.list()?.last().copied().unwrap_or(0);
        outbox.next.store(last + 1, Ordering::SeqCst);
        Ok(outbox)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sequence numbers waiting, oldest first.
    pub fn list(&self) -> Result<Vec<u64>, FsError> {
        // A fresh descriptor: a dup of `fd` would share (and exhaust) its read position.
        let fresh = open_dir_nofollow(&self.dir)?;
        let mut v: Vec<u64> = list_dir(&fresh, &self.dir)?
            .iter()
            .filter_map(|n| n.strip_suffix(".json")?.parse().ok())
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    pub fn len(&self) -> usize {
        self.list().map(|v| v.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores a message durably (fsynced) and returns its sequence number.
    pub fn push(&self, message: &Message) -> Result<u64, FsError> {
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        let bytes = serde_json::to_vec(message).expect("a message serializes");
        replace_file(&self.fd, &name(seq), &bytes, 0o600, &self.dir)?;
        if seq % 100 == 0 {
            let waiting = self.list()?;
            if waiting.len() > MAX_MESSAGES {
                for old in &waiting[..waiting.len() - MAX_MESSAGES] {
                    self.remove(*old)?;
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(seq)
    }

    /// Reads one message; `Ok(None)` if it is gone or unreadable (then it is removed).
    pub fn read(&self, seq: u64) -> Result<Option<Message>, FsError> {
        let Some(bytes) = read_file_at(&self.fd, &name(seq), &self.dir)? else {
            return Ok(None);
        };
        match serde_json::from_slice(&bytes) {
            Ok(m) => Ok(Some(m)),
            Err(_) => {
                tracing::warn!(
                    "removing unreadable outbox entry {}",
                    self.dir.join(name(seq)).display()
                );
                self.remove(seq)?;
                Ok(None)
            }
        }
    }

    pub fn remove(&self, seq: u64) -> Result<(), FsError> {
        match unlinkat(&self.fd, name(seq).as_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(FsError {
                action: "cannot remove",
                path: self.dir.join(name(seq)).display().to_string(),
                source: e.into(),
            }),
        }
    }
}

fn name(seq: u64) -> String {
    format!("{seq:020}.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn msg(label: &str) -> Message {
        Message {
            label: label.into(),
            payload: serde_json::json!({ "text": label }),
        }
    }

    #[test]
    fn survives_reopening_in_order() {
        let t = tempfile::tempdir().unwrap();
        let o = Outbox::open(t.path(), "audit").unwrap();
        assert_eq!(o.push(&msg("a")).unwrap(), 1);
        assert_eq!(o.push(&msg("b")).unwrap(), 2);
        o.remove(1).unwrap();
        drop(o);
        let o = Outbox::open(t.path(), "audit").unwrap();
        assert_eq!(o.list().unwrap(), vec![2]);
        assert_eq!(
            o.push(&msg("c")).unwrap(),
            3,
            "numbering continues after the newest"
        );
        assert_eq!(o.read(2).unwrap().unwrap(), msg("b"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&t.path().join("audit")), 0o700);
        assert_eq!(mode(&t.path().join("audit/outbox")), 0o700);
        assert_eq!(
            mode(&t.path().join("audit/outbox/00000000000000000003.json")),
            0o600
        );
        std::fs::write(
            t.path().join("audit/outbox/00000000000000000009.json"),
            "garbage",
        )
        .unwrap();
        assert_eq!(o.read(9).unwrap(), None);
        assert_eq!(o.list().unwrap(), vec![2, 3]);
        // Another area has its own queue.
        let other = Outbox::open(t.path(), "insights").unwrap();
        assert!(other.is_empty());
        assert_eq!(other.push(&msg("digest")).unwrap(), 1);
    }
}
