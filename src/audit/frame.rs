//! Newline framing of one connection's byte stream, with limits: a line longer
//! than [`MAX_LINE`] is skipped up to its newline without being buffered, a line
//! that is not UTF-8 is dropped, and bytes left without a newline at the end of
//! the stream are dropped. Nothing here allocates more than one line.
//!
//! An unfinished line is held in fixed-size chunks rather than one growing
//! buffer: peers can make the agent hold many partial lines, and chunks of
//! one size are reused by the allocator as connections come and go, so the
//! resident memory follows what is held (no growth by doubling, no large
//! blocks left fragmented).

/// The longest audit line accepted, without its newline.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// What the framer makes of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// One complete line, without its newline.
    Line(&'a str),
    /// A line over [`MAX_LINE`] bytes (reported once, when it starts overflowing).
    TooLong,
    /// A line that is not UTF-8 (dropped and counted).
    InvalidUtf8,
    /// A line with nothing on it.
    Empty,
    /// Bytes without a newline at the end of the stream.
    Partial,
}

/// Bytes per chunk of an unfinished line.
pub(crate) const CHUNK: usize = 16 << 10;

/// An unfinished line, in chunks of [`CHUNK`] bytes.
#[derive(Debug, Default)]
struct Pending {
    chunks: Vec<Vec<u8>>,
    len: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn len(&self) -> usize {
        self.len
    }

    fn extend_from_slice(&mut self, mut data: &[u8]) {
        self.len += data.len();
        while !data.is_empty() {
            match self.chunks.last_mut() {
                Some(c) if c.len() < CHUNK => {
                    let n = (CHUNK - c.len()).min(data.len());
                    c.extend_from_slice(&data[..n]);
                    data = &data[n..];
                }
                _ => self.chunks.push(Vec::with_capacity(CHUNK)),
            }
        }
    }

    /// The held bytes followed by `tail`, contiguous (briefly).
    fn joined(&self, tail: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len + tail.len());
        for c in &self.chunks {
            v.extend_from_slice(c);
        }
        v.extend_from_slice(tail);
        v
    }

    fn capacity(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    /// Empties it, keeping one chunk for the next line.
    fn clear(&mut self) {
        self.chunks.truncate(1);
        if let Some(c) = self.chunks.first_mut() {
            c.clear();
        }
        self.len = 0;
    }

    fn release(&mut self) {
        self.chunks = Vec::new();
        self.len = 0;
    }
}

/// Splits a byte stream into [`Frame`]s, bounded: at most [`MAX_LINE`] bytes
/// of a line are kept however long it grows.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Pending,
    discarding: bool,
}

impl Framer {
    /// A framer with nothing pending.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Feeds bytes as they arrive; `emit` sees every complete line.
    pub fn feed(&mut self, mut data: &[u8], emit: &mut impl FnMut(Frame<'_>)) {
        while let Some(i) = memchr::memchr(b'\n', data) {
            let seg = &data[..i];
            data = &data[i + 1..];
            if self.discarding {
                self.discarding = false;
                continue;
            }
            if self.buf.is_empty() {
                if seg.len() > MAX_LINE {
                    emit(Frame::TooLong);
                } else {
                    line(seg, emit);
                }
            } else if self.buf.len() + seg.len() > MAX_LINE {
                emit(Frame::TooLong);
                self.reset();
            } else {
                let whole = self.buf.joined(seg);
                line(&whole, emit);
                self.reset();
            }
        }
        if data.is_empty() || self.discarding {
            return;
        }
        if self.buf.len() + data.len() > MAX_LINE {
            emit(Frame::TooLong);
            self.discarding = true;
            self.reset();
        } else {
            self.buf.extend_from_slice(data);
        }
    }

    /// The stream ended: whatever is left had no newline.
    pub fn finish(&mut self, emit: &mut impl FnMut(Frame<'_>)) {
        if !self.buf.is_empty() {
            emit(Frame::Partial);
        }
        self.reset();
        self.discarding = false;
    }

    /// Bytes held for an unfinished line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Bytes allocated for the unfinished line.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives up the unfinished line (no memory for it): the rest of it, up to
    /// its newline, is skipped; the next line is read as usual.
    pub fn abandon(&mut self) {
        if !self.buf.is_empty() {
            self.discarding = true;
        }
        self.buf.release();
    }

    fn reset(&mut self) {
        self.buf.clear();
    }
}

fn line(seg: &[u8], emit: &mut impl FnMut(Frame<'_>)) {
    let seg = seg.strip_suffix(b"\r").unwrap_or(seg);
    if seg.iter().all(u8::is_ascii_whitespace) {
        emit(Frame::Empty);
        return;
    }
    match std::str::from_utf8(seg) {
        Ok(s) => emit(Frame::Line(s)),
        Err(_) => emit(Frame::InvalidUtf8),
    }
}

#[cfg(test)]
mod tests;
