//! `envFrom` templates: every key of the listed secrets as one `KEY="value"`
//! line that systemd's `EnvironmentFile=` reads back exactly.
//!
//! systemd (env-file.c, the parser behind `EnvironmentFile=`) reads a
//! double-quoted value verbatim, newlines included, except that a backslash
//! escapes the next character: `\"`, `\\`, `` \` `` and `\$` give the character
//! itself, a backslash before a newline is a line continuation (both vanish),
//! and before anything else the backslash is kept. So the value is written
//! between double quotes with exactly those four characters escaped; nothing
//! else needs escaping and no variable is expanded. tests/templates.rs reads
//! such a file back byte for byte through a real systemd 252.
//!
//! A value systemd cannot carry is refused, naming the key: a NUL byte (the
//! environment is C strings). Variable names follow systemd's rule for
//! environment names: `[A-Za-z_][A-Za-z0-9_]*`.

/// Why `name` cannot be an environment variable name (the message names it).
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && name.len() <= 255 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "key {name:?} is not a valid environment variable name (letters, digits and '_', not a digit first); rename it in Vault or use a content template"
        ))
    }
}

/// The value, double-quoted for `EnvironmentFile=`.
pub(crate) fn quote(value: &[u8]) -> Result<Vec<u8>, String> {
    if value.contains(&0) {
        return Err("contains a NUL byte, which an environment variable cannot hold".into());
    }
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(b'"');
    for &b in value {
        if matches!(b, b'"' | b'\\' | b'`' | b'$') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    Ok(out)
}

/// One `NAME="value"\n` line per entry, in order. On failure, every entry that
/// cannot be written, with why (names only, never values). `from` labels where
/// each name came from (e.g. "secret db") in the messages.
pub(crate) fn render(entries: &[(String, String, Vec<u8>)]) -> Result<Vec<u8>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
    for (from, name, value) in entries {
        if let Err(e) = check_name(name) {
            errors.push(format!("{from}: {e}"));
            continue;
        }
        if let Some(first) = seen.insert(name, from) {
            errors.push(format!(
                "key {name:?} is in both {first} and {from}; an environment file can hold it once: rename one in Vault, or use a content template"
            ));
            continue;
        }
        match quote(value) {
            Ok(q) => {
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                out.extend_from_slice(&q);
                out.push(b'\n');
            }
            Err(e) => errors.push(format!("{from}: the value of key {name:?} {e}")),
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
