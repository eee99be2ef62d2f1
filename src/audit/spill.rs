//! Where security-relevant lines go when memory is full: one unlinked file per
//! connection under `<stateDir>/audit/spill`, read back in order, all of them
//! bounded by `audit.spillBytes`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where spilled priority lines go, and how much may go there.
#[derive(Debug)]
pub(crate) struct SpillArea {
    pub dir: PathBuf,
    pub limit: u64,
    pub used: AtomicU64,
}

/// An unlinked file holding one connection's spilled lines, in order.
pub(crate) struct SpillFile {
    file: File,
    write_at: u64,
    read_at: u64,
    lines: u64,
    rbuf: Vec<u8>,
}

impl SpillArea {
    /// Reserves `need` bytes of the area, or says it is full.
    pub(crate) fn reserve(&self, need: u64) -> std::io::Result<()> {
        let used = self.used.fetch_add(need, Ordering::AcqRel);
        if used + need > self.limit {
            self.used.fetch_sub(need, Ordering::AcqRel);
            return Err(std::io::Error::other(format!(
                "the spill area is full (audit.spillBytes = {})",
                self.limit
            )));
        }
        Ok(())
    }

    /// Gives back `n` bytes (a line read back, or one that could not be written).
    pub(crate) fn release(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    /// A fresh unlinked file in the area's directory.
    pub(crate) fn open_file(&self) -> std::io::Result<SpillFile> {
        Ok(SpillFile {
            file: tempfile::tempfile_in(&self.dir)?,
            write_at: 0,
            read_at: 0,
            lines: 0,
            rbuf: Vec::new(),
        })
    }
}

impl SpillFile {
    /// No line left to read back.
    pub(crate) fn is_empty(&self) -> bool {
        self.lines == 0
    }

    pub(crate) fn push(&mut self, line: &str) -> std::io::Result<()> {
        let mut rec = Vec::with_capacity(line.len() + 1);
        rec.extend_from_slice(line.as_bytes());
        rec.push(b'\n');
        self.file.write_all_at(&rec, self.write_at)?;
        self.write_at += rec.len() as u64;
        self.lines += 1;
        Ok(())
    }

    pub(crate) fn pop(&mut self) -> std::io::Result<Option<String>> {
        if self.lines == 0 {
            return Ok(None);
        }
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.rbuf) {
                let line: Vec<u8> = self.rbuf.drain(..=i).take(i).collect();
                self.lines -= 1;
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            let mut chunk = vec![0u8; 64 << 10];
            let n = self.file.read_at(&mut chunk, self.read_at)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "spill file shorter than written",
                ));
            }
            self.read_at += n as u64;
            self.rbuf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Spill files are unlinked while in use; anything left in the directory
/// is from a crash of an older version and is removed (only regular files).
pub(crate) fn clear_spill_dir(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
