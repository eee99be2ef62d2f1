//! `content` templates: literal text and `{{ SECRET.KEY }}` placeholders.
//!
//! - Whitespace inside the braces is optional: `{{db.password}}` = `{{ db.password }}`.
//! - `{{{{` writes a literal `{{`; `}}` outside a placeholder is plain text.
//! - SECRET must name a secret of the spec. Secret names and keys may both
//!   contain `.`: SECRET is the longest prefix before a `.` that names a secret,
//!   KEY the rest (which must not be empty).
//! - Substitution is one pass: a secret value that contains `{{` is written as it
//!   is, never read as a placeholder.
//!
//! [`parse`] reports every problem of a template (with its line and column), not
//! only the first, so `vaultkeeper check` lists them all at once.

use std::fmt;

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Placeholder(Placeholder),
}

/// `{{ SECRET.KEY }}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Placeholder {
    pub secret: String,
    pub key: String,
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.secret, self.key)
    }
}

/// A problem in a template's text, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// The longest placeholder name accepted (a secret name is at most 200 bytes,
/// a key at most 255).
const MAX_NAME: usize = 512;

/// Parses `content`; `known` lists the spec's secret names. Returns the segments
/// (placeholders with problems are left out) and every problem found.
pub(crate) fn parse(content: &str, known: &[&str]) -> (Vec<Segment>, Vec<ParseProblem>) {
    let mut segments = Vec::new();
    let mut problems = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while let Some(off) = content[i..].find("{{") {
        let start = i + off;
        text.push_str(&content[i..start]);
        let after = start + 2;
        if content[after..].starts_with("{{") {
            text.push_str("{{");
            i = after + 2;
            continue;
        }
        let Some(len) = content[after..].find("}}") else {
            problems.push(problem(
                content,
                start,
                "a placeholder opened with {{ is never closed with }}; write {{{{ for a literal {{"
                    .to_string(),
            ));
            text.push_str(&content[start..]);
            i = content.len();
            break;
        };
        i = after + len + 2;
        match resolve(content[after..after + len].trim(), known) {
            Ok(p) => {
                if !text.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut text)));
                }
                segments.push(Segment::Placeholder(p));
            }
            Err(message) => problems.push(problem(content, start, message)),
        }
    }
    text.push_str(&content[i..]);
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    (segments, problems)
}

fn problem(content: &str, at: usize, message: String) -> ParseProblem {
    let before = &content[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    ParseProblem {
        line,
        column: before[line_start..].chars().count() + 1,
        message,
    }
}

fn resolve(name: &str, known: &[&str]) -> Result<Placeholder, String> {
    let shown = if name.len() > 64 {
        format!("{{{{ {}... }}}}", truncate(name, 64))
    } else {
        format!("{{{{ {name} }}}}")
    };
    if name.is_empty() {
        return Err(
            "an empty placeholder {{ }}; write {{ SECRET.KEY }}, or {{{{ for a literal {{".into(),
        );
    }
    if name.len() > MAX_NAME
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '{' || c == '}')
    {
        return Err(format!(
            "{shown} is not a placeholder: write {{{{ SECRET.KEY }}}} (no spaces or braces inside the name), or {{{{{{{{ for a literal {{{{"
        ));
    }
    let best = name
        .match_indices('.')
        .map(|(dot, _)| (&name[..dot], &name[dot + 1..]))
        .filter(|(secret, key)| !key.is_empty() && known.contains(secret))
        .max_by_key(|(secret, _)| secret.len());
    match best {
        Some((secret, key)) => Ok(Placeholder {
            secret: secret.to_string(),
            key: key.to_string(),
        }),
        None if known.contains(&name.strip_suffix('.').unwrap_or(name)) => Err(format!(
            "{shown} names no key of secret {:?}: write {{{{ SECRET.KEY }}}}",
            name.strip_suffix('.').unwrap_or(name)
        )),
        None if !name.contains('.') => Err(format!(
            "{shown} names no key: write {{{{ SECRET.KEY }}}}, e.g. {{{{ {}.password }}}}",
            known.first().copied().unwrap_or("grafana")
        )),
        None => Err(format!(
            "{shown} names an unknown secret: {:?} is not in secrets (known: {})",
            name.split('.').next().unwrap_or(name),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The placeholders of a template, each once, in order of first use.
pub(crate) fn placeholders(segments: &[Segment]) -> Vec<&Placeholder> {
    let mut out: Vec<&Placeholder> = Vec::new();
    for s in segments {
        if let Segment::Placeholder(p) = s {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Fills the placeholders with `value(placeholder)`; on failure, every
/// placeholder that could not be filled, with why (never a value).
pub(crate) fn fill(
    segments: &[Segment],
    mut value: impl FnMut(&Placeholder) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for s in segments {
        match s {
            Segment::Text(t) => out.extend_from_slice(t.as_bytes()),
            Segment::Placeholder(p) => match value(p) {
                Ok(v) => out.extend_from_slice(&v),
                Err(e) if !errors.contains(&e) => errors.push(e),
                Err(_) => {}
            },
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
