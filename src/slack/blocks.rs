//! Slack's documented Block Kit limits and mrkdwn escaping, for every payload
//! this agent builds.

use serde_json::{json, Value};

/// Slack's documented limits (Block Kit reference).
pub(crate) const MAX_HEADER: usize = 150;
pub(crate) const MAX_SECTION_TEXT: usize = 3000;
pub(crate) const MAX_FIELD_TEXT: usize = 2000;
pub(crate) const MAX_FIELDS: usize = 10;
pub(crate) const MAX_BLOCKS: usize = 50;

/// `&`, `<` and `>` are control characters in Slack's mrkdwn (mentions, links).
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Cuts to at most `max` characters, marking the cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Inline code, or an en dash for nothing.
pub(crate) fn code(s: &str) -> String {
    if s.is_empty() {
        "–".into()
    } else {
        format!("`{}`", esc(&s.replace('`', "'")))
    }
}

/// A header block (plain text, cut to Slack's limit).
pub(crate) fn header(text: &str) -> Value {
    json!({ "type": "header", "text": { "type": "plain_text", "text": truncate(text, MAX_HEADER), "emoji": true } })
}

/// A section block of mrkdwn (already escaped by the caller), cut to Slack's limit.
pub(crate) fn section(mrkdwn: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(mrkdwn, MAX_SECTION_TEXT) } })
}

/// A context block with one mrkdwn element.
pub(crate) fn context(mrkdwn: &str) -> Value {
    json!({ "type": "context", "elements": [ { "type": "mrkdwn", "text": truncate(mrkdwn, MAX_FIELD_TEXT) } ] })
}

#[cfg(test)]
mod tests;
