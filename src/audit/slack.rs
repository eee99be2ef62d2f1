//! Slack delivery: Block Kit payloads for an incoming webhook, and the sender
//! that drains the outbox in order — honouring `Retry-After` on 429 and backing
//! off exponentially on other failures. The webhook URL is a secret: it lives
//! in a [`Secret`], and reqwest errors are stripped of it before logging.

use super::alert::Alert;
use super::outbox::Outbox;
use super::spec::{Severity, SlackSpec};
use crate::secret::Secret;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Slack's documented limits (Block Kit reference).
pub const MAX_HEADER: usize = 150;
pub const MAX_SECTION_TEXT: usize = 3000;
pub const MAX_FIELD_TEXT: usize = 2000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_BLOCKS: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("cannot read the Slack webhook URL file {path}: {source} (create it with the incoming-webhook URL, mode 0400)")]
    ReadUrl {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the Slack webhook URL file {path} does not hold an http(s) URL; put only the incoming-webhook URL in it")]
    BadUrl { path: String },
}

/// Reads the webhook URL file (trimmed); the value is never logged.
pub fn read_webhook_url(spec: &SlackSpec) -> Result<Secret, SlackError> {
    let path = spec.webhook_url_file.display().to_string();
    let text =
        std::fs::read_to_string(&spec.webhook_url_file).map_err(|source| SlackError::ReadUrl {
            path: path.clone(),
            source,
        })?;
    let url = Secret::new(text.trim());
    match reqwest::Url::parse(url.expose()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(url),
        _ => Err(SlackError::BadUrl { path }),
    }
}

/// `&`, `<` and `>` are control characters in Slack's mrkdwn (mentions, links).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Cuts to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
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

fn code(s: &str) -> String {
    if s.is_empty() {
        "–".into()
    } else {
        format!("`{}`", esc(&s.replace('`', "'")))
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
    let text = truncate(
        &format!(
            "[{sev}] {}: {} — {} {} by {} from {}",
            alert.rule,
            esc(&title),
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
        ),
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
    let blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": truncate(&format!("{} {sev}: {title}", emoji(alert.severity)), MAX_HEADER), "emoji": true } }),
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(&body, MAX_SECTION_TEXT) } }),
        json!({ "type": "section", "fields": fields }),
        json!({ "type": "context", "elements": [ { "type": "mrkdwn", "text": truncate(&format!("vaultkeeper on {} · rule `{}` · severity {}", esc(host), esc(&alert.rule), alert.severity.as_str()), MAX_FIELD_TEXT) } ] }),
        json!({ "type": "divider" }),
    ];
    debug_assert!(blocks.len() <= MAX_BLOCKS);
    json!({ "text": text, "blocks": blocks })
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

enum Outcome {
    Delivered,
    /// Slack refused this payload for good (HTTP 400): retrying cannot help.
    Rejected(String),
    RetryAfter(Duration),
    Failed(String),
}

/// Backoff after the n-th consecutive failure: 0.5s, 1s, 2s, ... up to 30s, with jitter.
pub fn backoff(failures: u32) -> Duration {
    let base = 500u64.saturating_mul(1 << failures.min(6)).min(30_000);
    let jitter = rand::random::<u64>() % (base / 4 + 1);
    Duration::from_millis(base + jitter)
}

/// Parses `Retry-After` (seconds), capped at 10 minutes.
pub fn retry_after(v: Option<&str>) -> Duration {
    let secs = v.and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(1);
    Duration::from_secs(secs.clamp(1, 600))
}

async fn post(client: &reqwest::Client, url: &Secret, body: &Value) -> Outcome {
    let resp = match client.post(url.expose()).json(body).send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e.without_url().to_string()),
    };
    let status = resp.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    if status.as_u16() == 429 {
        let ra = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        return Outcome::RetryAfter(retry_after(ra.as_deref()));
    }
    let text = resp.text().await.unwrap_or_default();
    let text = truncate(text.trim(), 200);
    if status.as_u16() == 400 {
        Outcome::Rejected(format!("HTTP {status}: {text}"))
    } else {
        Outcome::Failed(format!("HTTP {status}: {text}"))
    }
}

/// Counters of the sender.
#[derive(Debug, Default)]
pub struct SenderCounters {
    pub delivered: AtomicU64,
    pub rejected: AtomicU64,
    pub retries: AtomicU64,
}

/// Drains the outbox into Slack until `shutdown` turns true. A POST in flight
/// is finished (so Slack never gets it twice after a restart); waits are not.
/// When `final_drain` turns true (the engine has flushed), the sender delivers
/// what is left and returns at the first failure or when the outbox is empty.
pub async fn run_sender(
    outbox: Arc<Outbox>,
    spec: SlackSpec,
    mut url: Secret,
    notify: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    final_drain: watch::Receiver<bool>,
    counters: Arc<SenderCounters>,
) {
    let client = match reqwest::Client::builder().timeout(spec.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot build the HTTP client for Slack: {e}");
            return;
        }
    };
    let host = hostname();
    let mut failures = 0u32;
    loop {
        let draining = *final_drain.borrow();
        if *shutdown.borrow() && !draining {
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            continue;
        }
        let waiting = match outbox.list() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("audit outbox: {e}");
                Vec::new()
            }
        };
        if waiting.is_empty() {
            if draining {
                return;
            }
            tokio::select! {
                _ = notify.notified() => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            continue;
        }
        for seq in waiting {
            let alert = match outbox.read(seq) {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!("audit outbox: {e}");
                    break;
                }
            };
            let body = payload(&alert, &host);
            loop {
                let draining = *final_drain.borrow();
                if *shutdown.borrow() && !draining {
                    break;
                }
                let wait = match post(&client, &url, &body).await {
                    Outcome::Delivered => {
                        failures = 0;
                        counters.delivered.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = outbox.remove(seq) {
                            tracing::error!(
                                "audit outbox: delivered alert {seq} but {e}; it may be sent again"
                            );
                        }
                        tracing::info!("alert {seq} ({}) delivered to Slack", alert.rule);
                        break;
                    }
                    Outcome::Rejected(why) => {
                        counters.rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(
                            "Slack rejected alert {seq} ({}) for good: {why}; dropping it",
                            alert.rule
                        );
                        let _ = outbox.remove(seq);
                        break;
                    }
                    Outcome::RetryAfter(d) => {
                        tracing::warn!(
                            "Slack rate-limited us; retrying alert {seq} in {}s",
                            d.as_secs()
                        );
                        d
                    }
                    Outcome::Failed(why) => {
                        failures += 1;
                        let d = backoff(failures);
                        tracing::warn!(
                            "cannot deliver alert {seq} ({}) to Slack: {why}; retry {failures} in {}ms",
                            alert.rule,
                            d.as_millis()
                        );
                        if failures % 5 == 0 {
                            // The webhook may have been rotated: pick up a new URL.
                            if let Ok(u) = read_webhook_url(&spec) {
                                url = u;
                            }
                        }
                        d
                    }
                };
                counters.retries.fetch_add(1, Ordering::Relaxed);
                if draining {
                    return; // shutting down: what is left stays in the outbox
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_respects_block_kit_limits_and_escapes() {
        let mut a = crate::audit::outbox::tests_support::alert("policy-changed");
        a.title = "x".repeat(500);
        a.display_name = "<!channel> & co".into();
        a.detail = Some("d".repeat(5000));
        let p = payload(&a, "h1");
        assert!(p["text"]
            .as_str()
            .unwrap()
            .contains("&lt;!channel&gt; &amp; co"));
        let blocks = p["blocks"].as_array().unwrap();
        assert!(blocks.len() <= MAX_BLOCKS);
        let header = blocks[0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), MAX_HEADER);
        assert!(blocks[1]["text"]["text"].as_str().unwrap().chars().count() <= MAX_SECTION_TEXT);
        let fields = blocks[2]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 8);
        assert!(fields.iter().all(|f| f["type"] == "mrkdwn"
            && f["text"].as_str().unwrap().chars().count() <= MAX_FIELD_TEXT));
        assert!(fields[0]["text"]
            .as_str()
            .unwrap()
            .contains("&lt;!channel&gt;"));
        assert!(!p.to_string().contains("<!channel>"));
    }

    #[test]
    fn retry_after_and_backoff() {
        assert_eq!(retry_after(Some("7")), Duration::from_secs(7));
        assert_eq!(retry_after(Some("junk")), Duration::from_secs(1));
        assert_eq!(retry_after(Some("99999")), Duration::from_secs(600));
        assert!(
            backoff(1) >= Duration::from_millis(1000) && backoff(1) <= Duration::from_millis(1250)
        );
        assert!(backoff(30) <= Duration::from_millis(37_500));
    }
}
