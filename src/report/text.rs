//! The one-line message of an error and its causes (the rule in [`super`]),
//! and Vault's multi-error lists on one line.

use super::failure::Failure;
use std::error::Error;

/// Vault's error text on one line: a go-multierror list
/// (`"1 error occurred:\n\t* permission denied\n\n"`) becomes its items joined
/// with `"; "`; other line breaks become spaces.
pub(crate) fn vault_message(s: &str) -> String {
    let t = s.trim();
    let mut lines = t.lines();
    let first = lines.next().unwrap_or("");
    // "<prefix>N error(s) occurred:" then "\t* item" lines.
    let head = first
        .strip_suffix(" errors occurred:")
        .or_else(|| first.strip_suffix(" error occurred:"));
    if let Some(head) = head {
        let prefix = head.trim_end_matches(|c: char| c.is_ascii_digit());
        let items: Vec<&str> = lines
            .filter_map(|l| l.trim().strip_prefix("* "))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if !items.is_empty() && prefix.len() < head.len() {
            return format!("{prefix}{}", one_line(&items.join("; ")));
        }
    }
    one_line(t)
}

/// Collapses every run of whitespace (line breaks, tabs) to one space.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message of an error and its causes, by the rule above.
pub(crate) fn message(e: &(dyn Error + 'static)) -> String {
    let mut text = String::new();
    let mut fixes: Vec<&str> = Vec::new();
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(f) = err.downcast_ref::<Failure>() {
            if let Some(fix) = &f.fix {
                fixes.push(fix);
            }
        }
        // Multi-problem spec errors are a deliberate list, one problem a line.
        let part = if err.downcast_ref::<crate::spec::SpecError>().is_some() {
            err.to_string()
        } else {
            vault_message(&err.to_string())
        };
        if !part.is_empty() && !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        cur = err.source();
    }
    for fix in fixes {
        text.push_str("; ");
        text.push_str(fix);
    }
    text
}
