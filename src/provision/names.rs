//! The names provision sends and writes: path segments and paths Vault sees
//! ([`check_segment`], [`check_path`]) and HCL strings ([`hcl_string`]).

pub(crate) use crate::spec::check_segment;

/// Segments separated by single `/` (a mount like `team/kv`, a prefix like `hosts/eu`).
pub(crate) fn check_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty; name at least one segment, e.g. \"hosts\"".into());
    }
    for seg in s.split('/') {
        check_segment(seg).map_err(|e| format!("{s:?}: {e}"))?;
    }
    Ok(())
}

/// `s` as a quoted HCL string: `\`, `"`, control characters escaped, and the
/// template sequences `${` and `%{` doubled so they stay literal.
pub(crate) fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
