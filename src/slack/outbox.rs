//! The persistent outbox: `<stateDir>/<area>/outbox/` (0700), one file per
//! message (`<20-digit sequence>.json`, 0600, written atomically and fsynced).
//! The sender posts the lowest sequence first and deletes it only after Slack
//! accepted it, so messages survive an agent restart or a Slack outage and
//! arrive in order.
//!
//! At most once: when a POST's body has been handed to the connection, the
//! sender records its sequence in `<stateDir>/<area>/in-flight` before waiting
//! for Slack's answer. A message found there at the next attempt (the agent was
//! stopped or killed while waiting) or whose answer never came is moved to
//! `<stateDir>/<area>/unconfirmed/` instead of being sent again: it may be in
//! Slack already. The newest [`MAX_UNCONFIRMED`] are kept for the operator.

use crate::fs::{
    ensure_private_dir, list_dir, open_dir_nofollow, read_file_at, replace_file, FsError,
};
use nix::unistd::{unlinkat, UnlinkatFlags};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Messages kept at most; older ones are dropped first (and counted) beyond this.
pub(crate) const MAX_MESSAGES: usize = 10_000;

/// Unconfirmed messages kept at most in `unconfirmed/`; older ones are removed.
pub(crate) const MAX_UNCONFIRMED: usize = 1_000;

const IN_FLIGHT: &str = "in-flight";

/// One message for Slack: the webhook payload, and a short label for the logs
/// (a rule id, "digest", "sealed").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message {
    pub label: String,
    pub payload: Value,
}

pub(crate) struct Outbox {
    dir: PathBuf,
    fd: OwnedFd,
    /// `<stateDir>/<area>`, which holds the in-flight marker.
    parent: PathBuf,
    parent_fd: OwnedFd,
    next: AtomicU64,
    pub dropped: AtomicU64,
}

impl Outbox {
    /// Opens (creating) `<state_dir>/<area>/outbox`.
    pub(crate) fn open(state_dir: &Path, area: &str) -> Result<Outbox, FsError> {
        let parent = state_dir.join(area);
        let parent_fd = ensure_private_dir(&parent, 0o700)?;
        let dir = parent.join("outbox");
        let fd = ensure_private_dir(&dir, 0o700)?;
        let outbox = Outbox {
            dir,
            fd,
            parent,
            parent_fd,
            next: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
        };
        let last = outbox.list()?.last().copied().unwrap_or(0);
        outbox.next.store(last + 1, Ordering::SeqCst);
        Ok(outbox)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sequence numbers waiting, oldest first.
    pub(crate) fn list(&self) -> Result<Vec<u64>, FsError> {
        // A fresh descriptor: a dup of `fd` would share (and exhaust) its read position.
        let fresh = open_dir_nofollow(&self.dir)?;
        let mut v: Vec<u64> = list_dir(&fresh, &self.dir)?
            .iter()
            .filter_map(|n| n.strip_suffix(".json")?.parse().ok())
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    pub(crate) fn len(&self) -> usize {
        self.list().map(|v| v.len()).unwrap_or(0)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores a message durably (fsynced) and returns its sequence number.
    pub(crate) fn push(&self, message: &Message) -> Result<u64, FsError> {
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
    pub(crate) fn read(&self, seq: u64) -> Result<Option<Message>, FsError> {
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

    pub(crate) fn remove(&self, seq: u64) -> Result<(), FsError> {
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

impl Outbox {
    /// Records that message `seq`'s body was handed to Slack's connection
    /// (fsynced: it must survive a crash while the answer is awaited).
    pub(crate) fn mark_in_flight(&self, seq: u64) -> Result<(), FsError> {
        replace_file(
            &self.parent_fd,
            IN_FLIGHT,
            seq.to_string().as_bytes(),
            0o600,
            &self.parent,
        )
    }

    /// The message whose answer was being awaited when the marker was written
    /// and not cleared (at most one: the sender posts one message at a time).
    pub(crate) fn in_flight(&self) -> Option<u64> {
        let bytes = read_file_at(&self.parent_fd, IN_FLIGHT, &self.parent).ok()??;
        std::str::from_utf8(&bytes).ok()?.trim().parse().ok()
    }

    /// Clears the in-flight marker once the POST's outcome is known.
    pub(crate) fn clear_in_flight(&self) -> Result<(), FsError> {
        match unlinkat(&self.parent_fd, IN_FLIGHT, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(FsError {
                action: "cannot remove",
                path: self.parent.join(IN_FLIGHT).display().to_string(),
                source: e.into(),
            }),
        }
    }

    /// `<stateDir>/<area>/unconfirmed`, where messages that may or may not be
    /// in Slack are kept instead of being sent again.
    pub(crate) fn unconfirmed_dir(&self) -> PathBuf {
        self.parent.join("unconfirmed")
    }

    /// Moves message `seq` out of the queue into `unconfirmed/` (keeping the
    /// newest [`MAX_UNCONFIRMED`]) and clears the in-flight marker. Returns
    /// where it now is.
    pub(crate) fn set_aside(&self, seq: u64) -> Result<PathBuf, FsError> {
        self.set_aside_keeping(seq, MAX_UNCONFIRMED)
    }

    fn set_aside_keeping(&self, seq: u64, keep: usize) -> Result<PathBuf, FsError> {
        let aside = self.unconfirmed_dir();
        let aside_fd = ensure_private_dir(&aside, 0o700)?;
        if let Err(e) =
            nix::fcntl::renameat(&self.fd, name(seq).as_str(), &aside_fd, name(seq).as_str())
        {
            if e != nix::errno::Errno::ENOENT {
                return Err(FsError {
                    action: "cannot move aside",
                    path: self.dir.join(name(seq)).display().to_string(),
                    source: e.into(),
                });
            }
        }
        crate::fs::fsync_dir(&aside_fd, &aside)?;
        crate::fs::fsync_dir(&self.fd, &self.dir)?;
        self.clear_in_flight()?;
        let fresh = open_dir_nofollow(&aside)?;
        let mut kept: Vec<String> = list_dir(&fresh, &aside)?
            .into_iter()
            .filter(|n| n.ends_with(".json"))
            .collect();
        kept.sort_unstable();
        if kept.len() > keep {
            for old in &kept[..kept.len() - keep] {
                let _ = unlinkat(&aside_fd, old.as_str(), UnlinkatFlags::NoRemoveDir);
            }
        }
        Ok(aside.join(name(seq)))
    }
}

fn name(seq: u64) -> String {
    format!("{seq:020}.json")
}

#[cfg(test)]
mod tests;
