//! A cheap byte-level look at one audit line, before any overload decision:
//! could a rule fire on it? Candidates go to the priority lane, which is never
//! dropped; the rest may be counted as overload when the agent falls behind.
//!
//! It errs on the side of "candidate": a line whose `path` or `error` it cannot
//! read plainly (JSON escapes, odd spacing) is a candidate too, so an escape
//! such as `"sy\u0073/seal"` cannot smuggle a dangerous request past it.

use memchr::memmem::Finder;

/// Path prefixes the built-in rules look at.
const PREFIXES: &[&[u8]] = &[b"sys/", b"auth/", b"identity/", b"/"];

pub(crate) struct Prefilter {
    path: Finder<'static>,
    error: Finder<'static>,
    root: Finder<'static>,
    /// Literal prefixes of the custom rules' path globs.
    custom: Vec<Vec<u8>>,
}

impl Prefilter {
    /// `custom_globs`: the enabled custom rules' path globs.
    pub(crate) fn new<'a>(custom_globs: impl IntoIterator<Item = &'a str>) -> Prefilter {
        Prefilter {
            path: Finder::new(b"\"path\""),
            error: Finder::new(b"\"error\""),
            root: Finder::new(b"\"root\""),
            custom: custom_globs
                .into_iter()
                .map(|g| {
                    g.as_bytes()
                        .iter()
                        .take_while(|b| !matches!(b, b'*' | b'?'))
                        .copied()
                        .collect()
                })
                .collect(),
        }
    }

    /// True when a rule could fire on this line.
    pub(crate) fn candidate(&self, line: &[u8]) -> bool {
        if self.root.find(line).is_some() {
            return true; // a root token used or handed out
        }
        for at in self.error.find_iter(line) {
            match string_value(&line[at + 7..]) {
                Value::Plain([]) => {}
                _ => return true,
            }
        }
        for at in self.path.find_iter(line) {
            match string_value(&line[at + 6..]) {
                Value::Plain(v) => {
                    if PREFIXES.iter().any(|p| v.starts_with(p))
                        || memchr::memmem::find(v, b"/sys/").is_some()
                        || self.custom.iter().any(|c| v.starts_with(c))
                    {
                        return true;
                    }
                }
                Value::Unclear => return true,
                Value::NotString => {}
            }
        }
        false
    }
}

enum Value<'a> {
    /// A string without escapes.
    Plain(&'a [u8]),
    /// A string with escapes, or cut short.
    Unclear,
    /// Not a string (an object key followed by `{`, a number...).
    NotString,
}

/// The value after a key: `: "..."` with optional whitespace.
fn string_value(rest: &[u8]) -> Value<'_> {
    let mut i = 0;
    let skip = |i: &mut usize| {
        while rest.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    skip(&mut i);
    if rest.get(i) != Some(&b':') {
        return Value::NotString;
    }
    i += 1;
    skip(&mut i);
    if rest.get(i) != Some(&b'"') {
        return Value::NotString;
    }
    let s = &rest[i + 1..];
    match memchr::memchr2(b'"', b'\\', s) {
        Some(end) if s[end] == b'"' => Value::Plain(&s[..end]),
        _ => Value::Unclear,
    }
}

#[cfg(test)]
mod tests;
