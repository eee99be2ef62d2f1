//! Newline framing of one connection's byte stream, with limits: a line longer
//! than [`MAX_LINE`] is skipped up to its newline without being buffered, a line
//! that is not UTF-8 is dropped, and bytes left without a newline at the end of
//! the stream are dropped. Nothing here allocates more than one line.

/// The longest audit line accepted, without its newline.
pub const MAX_LINE: usize = 1 << 20;

/// What the framer makes of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Line(&'a str),
    /// A line over [`MAX_LINE`] bytes (reported once, when it starts overflowing).
    TooLong,
    InvalidUtf8,
    /// A line with nothing on it.
    Empty,
    /// Bytes without a newline at the end of the stream.
    Partial,
}

#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    discarding: bool,
}

impl Framer {
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
                self.buf.extend_from_slice(seg);
                line(&self.buf, emit);
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
        self.buf = Vec::new();
    }

    fn reset(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > 16 << 10 {
            self.buf = Vec::new();
        }
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
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Vec<String> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        let mut emit = |fr: Frame<'_>| out.push(format!("{fr:?}"));
        for c in chunks {
            f.feed(c, &mut emit);
        }
        f.finish(&mut emit);
        out
    }

    #[test]
    fn lines_split_across_chunks_join() {
        assert_eq!(
            run(&[b"{\"a\"", b":1}\n{\"b\":2}\n\n{\"c", b"\":3}\r\n"]),
            [
                "Line(\"{\\\"a\\\":1}\")",
                "Line(\"{\\\"b\\\":2}\")",
                "Empty",
                "Line(\"{\\\"c\\\":3}\")"
            ]
        );
    }

    #[test]
    fn a_trailing_partial_line_is_dropped_and_reported() {
        assert_eq!(run(&[b"{}\n{\"half"]), ["Line(\"{}\")", "Partial"]);
    }

    #[test]
    fn invalid_utf8_is_dropped() {
        assert_eq!(run(&[b"\xff\xfe{}\n{}\n"]), ["InvalidUtf8", "Line(\"{}\")"]);
    }

    #[test]
    fn over_long_lines_are_skipped_without_buffering_them() {
        let mut f = Framer::new();
        let mut out = Vec::new();
        let mut emit = |fr: Frame<'_>| out.push(format!("{fr:?}"));
        let chunk = vec![b'x'; 64 << 10];
        for _ in 0..160 {
            f.feed(&chunk, &mut emit); // 10 MiB, no newline
            assert!(f.pending() <= MAX_LINE);
        }
        f.feed(b"tail\n{}\n", &mut emit);
        // exactly MAX_LINE is fine, one more byte is not
        let mut exact = vec![b'y'; MAX_LINE];
        exact.push(b'\n');
        f.feed(&exact, &mut emit);
        let mut over = vec![b'y'; MAX_LINE + 1];
        over.push(b'\n');
        f.feed(&over[..10], &mut emit);
        f.feed(&over[10..], &mut emit);
        f.finish(&mut emit);
        assert_eq!(
            out.len(),
            4,
            "{:?}",
            &out.iter()
                .map(|s| &s[..s.len().min(20)])
                .collect::<Vec<_>>()
        );
        assert_eq!(out[0], "TooLong");
        assert_eq!(out[1], "Line(\"{}\")");
        assert!(out[2].starts_with("Line(\"yyy"));
        assert_eq!(out[3], "TooLong");
    }
}
