//! The building blocks of the human output: aligned tables and times and
//! ages in words.

use crate::clock::{coarse_words, rfc3339_secs};
use std::fmt::Write;

/// `"<RFC 3339> (<age> ago)"`.
pub(crate) fn ago(now: u64, t: u64) -> String {
    format!(
        "{} ({} ago)",
        rfc3339_secs(t),
        coarse_words(now.saturating_sub(t))
    )
}

/// Writes `not assessed: <reason>` when `map` says why `key` was not assessed.
pub(crate) fn na(
    out: &mut String,
    map: &std::collections::BTreeMap<String, String>,
    key: &str,
) -> bool {
    if let Some(r) = map.get(key) {
        let _ = writeln!(out, "not assessed: {r}");
        true
    } else {
        false
    }
}

/// Rows as aligned columns: comfy-table without borders, two spaces between
/// columns, every line indented by `indent`, no trailing spaces.
pub(crate) fn table(indent: &str, header: Option<&[&str]>, rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() && header.is_none() {
        return String::new();
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING);
    t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    if let Some(h) = header {
        t.set_header(h.to_vec());
    }
    for r in rows {
        t.add_row(r);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    let mut o = String::new();
    for line in t.lines() {
        let _ = writeln!(o, "{indent}{}", line.trim_end());
    }
    o
}

/// A table row from string slices.
pub(crate) fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// "3 min", "45 s", "2h 5m": an age for people.
pub(crate) fn age_words(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=7199 => format!("{} min", secs / 60),
        _ => coarse_words(secs),
    }
}
