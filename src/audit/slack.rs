//! Block Kit payloads for audit alerts: severity, rule, who (display_name,
//! policies, accessor), what (operation, path), from where, when and the
//! request id. Delivery is [`crate::slack`]'s job.

use super::alert::Alert;
use crate::slack::blocks::{
    code, esc, truncate, MAX_BLOCKS, MAX_FIELDS, MAX_FIELD_TEXT, MAX_HEADER, MAX_SECTION_TEXT,
};
use crate::slack::Message;
use crate::spec::audit::severity::Severity;
use serde_json::{json, Value};

/// An alert as an outbox message for Slack.
pub(crate) fn message(alert: &Alert, host: &str) -> Message {
    Message {
        label: alert.rule.clone(),
        payload: payload(alert, host),
    }
}

fn emoji(s: Severity) -> &'static str {
    match s {
        Severity::Critical => ":rotating_light:",
        Severity::High => ":red_circle:",
        Severity::Medium => ":large_orange_circle:",
        Severity::Low => ":large_yellow_circle:",
        Severity::Info => ":information_source:",
    }
}

/// The webhook payload for one alert: a `text` fallback (notifications) and blocks.
pub fn payload(alert: &Alert, host: &str) -> Value {
    let sev = alert.severity.as_str().to_uppercase();
    let title = if alert.summary {
        format!("{} ×{} more", alert.title, alert.count)
    } else {
        alert.title.clone()
    };
    // An alert about the agent itself (audit-overload) has no request to name.
    let request = if alert.operation.is_empty() && alert.path.is_empty() {
        String::new()
    } else {
        format!(
            " — {} {} by {} from {}",
            esc(&alert.operation),
            esc(&alert.path),
            esc(if alert.display_name.is_empty() {
                "?"
            } else {
                &alert.display_name
            }),
            esc(if alert.remote_address.is_empty() {
                "?"
            } else {
                &alert.remote_address
            }),
        )
    };
    let text = truncate(
        &format!("[{sev}] {}: {}{request}", alert.rule, esc(&title)),
        MAX_SECTION_TEXT,
    );
    let mut body = format!("*{}* {}", esc(&alert.rule), esc(&title));
    if let Some(d) = &alert.detail {
        body.push_str(&format!("\n>{}", esc(d)));
    }
    let what = if alert.operation.is_empty() && alert.path.is_empty() {
        String::new()
    } else {
        format!("{} {}", alert.operation, alert.path)
    };
    let fields = [
        ("Who", code(&alert.display_name)),
        (
            "Policies",
            if alert.policies.is_empty() {
                "–".into()
            } else {
                esc(&alert.policies.join(", "))
            },
        ),
        ("Accessor", code(&alert.accessor)),
        ("What", code(&what)),
        ("From", code(&alert.remote_address)),
        ("When", esc(&alert.time)),
        ("Request id", code(&alert.request_id)),
        (
            "Count",
            format!(
                "{}{}",
                alert.count,
                if alert.summary { " (coalesced)" } else { "" }
            ),
        ),
    ];
    let fields: Vec<Value> = fields
        .iter()
        .take(MAX_FIELDS)
        .map(|(k, v)| json!({ "type": "mrkdwn", "text": truncate(&format!("*{k}*\n{v}"), MAX_FIELD_TEXT) }))
        .collect();
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": truncate(&format!("{} {sev}: {title}", emoji(alert.severity)), MAX_HEADER), "emoji": true } }),
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(&body, MAX_SECTION_TEXT) } }),
        json!({ "type": "section", "fields": fields }),
        json!({ "type": "context", "elements": [ { "type": "mrkdwn", "text": truncate(&format!("vaultkeeper on {} · rule `{}` · severity {}", esc(host), esc(&alert.rule), alert.severity.as_str()), MAX_FIELD_TEXT) } ] }),
    ];
    blocks.extend(event_sections(alert, MAX_BLOCKS - blocks.len() - 1));
    blocks.push(json!({ "type": "divider" }));
    debug_assert!(blocks.len() <= MAX_BLOCKS);
    json!({ "text": text, "blocks": blocks })
}

/// A summary's events, one line each, in sections of at most Slack's section
/// length, using at most `max_blocks` blocks; what does not fit is counted.
fn event_sections(alert: &Alert, max_blocks: usize) -> Vec<Value> {
    if alert.events.is_empty() {
        return Vec::new();
    }
    let mut blocks = Vec::new();
    let mut text = String::from("*Each event:*");
    let mut left = alert.unlisted;
    for (i, e) in alert.events.iter().enumerate() {
        let line = format!(
            "\n• {} {} {} {} by {} from {}",
            esc(&e.time),
            code(&e.request_id),
            esc(&e.operation),
            code(&e.path),
            code(&e.actor),
            code(&e.remote_address)
        );
        let line = truncate(&line, 500);
        if text.chars().count() + line.chars().count() > MAX_SECTION_TEXT - 100 {
            if blocks.len() + 2 >= max_blocks {
                left += (alert.events.len() - i) as u64;
                break;
            }
            blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }));
            text = String::new();
        }
        text.push_str(&line);
    }
    if left > 0 {
        text.push_str(&format!(
            "\n…and {left} more not listed here: `vaultkeeper audit replay` over the file audit device lists every one"
        ));
    }
    blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(&text, MAX_SECTION_TEXT) } }));
    blocks
}

#[cfg(test)]
mod tests;
