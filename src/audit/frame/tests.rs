//! Unit tests of frame.rs.

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
