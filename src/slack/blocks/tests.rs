//! Unit tests of blocks.rs.

use super::*;

#[test]
fn limits_and_escaping() {
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("abc", 4), "abc");
    assert_eq!(esc("<!channel> & co"), "&lt;!channel&gt; &amp; co");
    assert_eq!(code(""), "–");
    assert_eq!(code("a`b<"), "`a'b&lt;`");
    let h = header(&"x".repeat(400));
    assert_eq!(
        h["text"]["text"].as_str().unwrap().chars().count(),
        MAX_HEADER
    );
    let s = section(&"y".repeat(4000));
    assert_eq!(
        s["text"]["text"].as_str().unwrap().chars().count(),
        MAX_SECTION_TEXT
    );
}
