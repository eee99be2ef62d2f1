//! The answers, as Block Kit messages built from the digest's own blocks
//! ([`crate::insights::digest`]: server, secrets, posture, updates, leases)
//! plus the details each command adds. Every string from Vault or the release
//! feed is mrkdwn-escaped; every text is cut to Slack's limits.

use super::command::Ask;
use crate::clock::{coarse_words, rfc3339_secs};
use crate::insights::digest::{
    leases_block, posture_block, secrets_block, server_block, updates_block,
};
use crate::insights::leases::{expiry_words, LeaseReport, BUCKETS};
use crate::insights::posture::{Outcome, Report};
use crate::insights::status::Status;
use crate::insights::usage::UsageReport;
use crate::insights::version::VersionReport;
use crate::slack::blocks::{code, context, esc, header, section, MAX_BLOCKS};
use serde_json::{json, Value};

/// Lines listed at most in one section (findings, tokens, mounts...).
const LIST: usize = 10;

fn message(text: String, mut blocks: Vec<Value>) -> Value {
    // Room for the context line added when answering.
    blocks.truncate(MAX_BLOCKS - 1);
    json!({ "text": text, "blocks": blocks })
}

fn list(lines: impl IntoIterator<Item = String>, more_of: usize) -> String {
    let v: Vec<String> = lines.into_iter().collect();
    let mut t = v.join("\n");
    if more_of > v.len() {
        t.push_str(&format!("\n… and {} more", more_of - v.len()));
    }
    t
}

pub(crate) fn help(host: &str, command: &str, unknown: Option<&str>) -> Value {
    let command = if command.starts_with('/') && command.len() <= 40 {
        command
    } else {
        "/vault"
    };
    let mut blocks = vec![header(&format!("Ask vaultkeeper on {host}"))];
    if let Some(w) = unknown {
        blocks.push(section(&format!(
            "I do not know {}. This is what I can answer:",
            code(w)
        )));
    }
    let lines: Vec<String> = Ask::ALL
        .iter()
        .chain(std::iter::once(&Ask::Help))
        .map(|a| format!("• `{} {}`: {}", esc(command), a.word(), a.what()))
        .collect();
    blocks.push(section(&lines.join("\n")));
    blocks.push(context(
        "Read-only: no command changes anything in Vault. Answers are cached for a short while.",
    ));
    message(
        format!("{command} commands: status, posture, leases, usage, updates"),
        blocks,
    )
}

pub(crate) fn status(host: &str, s: &Status) -> Value {
    let mut blocks = vec![
        header(&format!("Vault status for {host}")),
        server_block(&s.server),
    ];
    if let Some(w) = &s.audit_warning {
        blocks.push(section(&format!(":warning: *{}*", esc(w))));
    }
    let mut facts = Vec::new();
    match (&s.audit_devices, s.not_assessed.get("auditDevices")) {
        (Some(d), _) => facts.push(format!(
            "*Audit devices* {}",
            if d.is_empty() {
                "none".to_string()
            } else {
                d.iter()
                    .map(|x| format!("{} ({})", code(&x.path), esc(&x.kind)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )),
        (None, Some(r)) => facts.push(format!("*Audit devices* not assessed: {}", esc(r))),
        _ => {}
    }
    if let Some(n) = s.auth_methods {
        facts.push(format!("*Auth methods* {n}"));
    }
    if let Some(n) = s.secrets_engines {
        facts.push(format!("*Secrets engines* {n}"));
    }
    if let Some(t) = &s.token {
        facts.push(format!(
            "*This host's token* {}, policies {}",
            if t.ttl_seconds == 0 {
                "never expires".to_string()
            } else {
                format!("TTL {}", coarse_words(t.ttl_seconds))
            },
            esc(&t.policies.join(", "))
        ));
    }
    if !facts.is_empty() {
        blocks.push(section(&facts.join("\n")));
    }
    blocks.push(secrets_block(s));
    let errors: Vec<String> = s
        .secrets
        .iter()
        .filter_map(|x| {
            x.last_error
                .as_ref()
                .map(|e| format!("• {}: {}", code(&x.name), esc(e)))
        })
        .take(LIST)
        .collect();
    if !errors.is_empty() {
        blocks.push(section(&format!("*Last errors*\n{}", errors.join("\n"))));
    }
    let text = format!(
        "Vault status for {host}: {}",
        if s.server.sealed {
            "SEALED"
        } else {
            "unsealed"
        }
    );
    message(text, blocks)
}

pub(crate) fn posture(host: &str, r: &Report, previous: Option<u32>) -> Value {
    let mut blocks = vec![
        header(&format!("Vault posture for {host}")),
        posture_block(Some(r), previous),
    ];
    let mut costly: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.counts() && f.points < f.weight)
        .collect();
    costly.sort_by_key(|f| std::cmp::Reverse(f.weight - f.points));
    let n = costly.len();
    let lines = costly.into_iter().take(LIST).map(|f| {
        format!(
            "• *{}* −{}{}",
            esc(f.title),
            f.weight - f.points,
            f.fix
                .as_deref()
                .map(|x| format!("\n   fix: {}", esc(x)))
                .unwrap_or_default()
        )
    });
    let text = list(lines, n);
    if !text.is_empty() {
        blocks.push(section(&format!("*What costs points*\n{text}")));
    }
    let passed = r
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Pass)
        .count();
    blocks.push(context(&format!(
        "{passed} check(s) pass, {} not assessed; {} of {} weight assessed. `vaultkeeper posture` shows the evidence.",
        r.not_assessed, r.assessed_weight, r.total_weight
    )));
    message(format!("Vault posture for {host}: {}/100", r.score), blocks)
}

pub(crate) fn leases(host: &str, r: &LeaseReport) -> Value {
    let mut blocks = vec![
        header(&format!("Vault leases for {host}")),
        leases_block(Some(&r.headline)),
    ];
    if let Some(reason) = r.not_assessed.get("leases") {
        blocks.push(section(&format!("*Leases* not assessed: {}", esc(reason))));
    } else {
        let by: Vec<String> = BUCKETS
            .iter()
            .map(|b| format!("{b}: {}", r.by_bucket.get(*b).copied().unwrap_or(0)))
            .collect();
        blocks.push(section(&format!("*By TTL* {}", esc(&by.join(", ")))));
    }
    if let Some(reason) = r.not_assessed.get("tokens") {
        blocks.push(section(&format!("*Tokens* not assessed: {}", esc(reason))));
    } else {
        let n = r.tokens_without_expiry.len();
        let lines = r.tokens_without_expiry.iter().take(LIST).map(|t| {
            format!(
                "• {} policies {} via {}",
                code(&t.display_name),
                esc(&t.policies.join(",")),
                code(&t.path)
            )
        });
        blocks.push(section(&if n == 0 {
            "*Tokens without expiry* none".to_string()
        } else {
            format!("*Tokens without expiry* {n}\n{}", list(lines, n))
        }));
        if !r.longest_tokens.is_empty() {
            let lines = r.longest_tokens.iter().take(5).map(|t| {
                format!(
                    "• {} {}",
                    code(&t.display_name),
                    esc(&expiry_words(t.ttl_seconds, t.expire_time.as_deref()))
                )
            });
            blocks.push(section(&format!(
                "*Longest-lived tokens*\n{}",
                list(lines, 0)
            )));
        }
    }
    if r.truncated {
        blocks.push(context(
            "Stopped at the lookup limit: the counts are lower bounds.",
        ));
    }
    message(format!("Vault leases for {host}: {}", r.headline), blocks)
}

pub(crate) fn usage(host: &str, r: &UsageReport) -> Value {
    let opt = |v: Option<usize>| v.map_or("not assessed".to_string(), |n| n.to_string());
    let mut blocks = vec![
        header(&format!("Vault usage for {host}")),
        section(&format!(
            "*Entities* {}\n*Tokens* {}",
            opt(r.entities),
            opt(r.tokens)
        )),
    ];
    if !r.secrets_by_mount.is_empty() {
        let n = r.secrets_by_mount.len();
        let lines = r
            .secrets_by_mount
            .iter()
            .take(LIST)
            .map(|(m, c)| format!("• {} {c}", code(m)));
        blocks.push(section(&format!(
            "*Secrets per KV mount*\n{}",
            list(lines, n)
        )));
    }
    if !r.auth_methods.is_empty() {
        let n = r.auth_methods.len();
        let lines = r.auth_methods.iter().take(LIST).map(|a| {
            format!(
                "• {} ({}) {} live token(s)",
                code(&a.path),
                esc(&a.kind),
                opt(a.tokens)
            )
        });
        blocks.push(section(&format!("*Auth methods*\n{}", list(lines, n))));
    }
    blocks.push(section(&match &r.audit {
        Some(s) => format!(
            "*Requests* {} audit entries since {}",
            s.entries,
            esc(&s.time)
        ),
        None => format!("*Requests* {}", esc(&r.audit_listener)),
    }));
    let n = r.suggestions.len();
    if n > 0 {
        let lines = r
            .suggestions
            .iter()
            .take(LIST)
            .map(|s| format!("• {}", esc(&s.text)));
        blocks.push(section(&format!("*Suggestions*\n{}", list(lines, n))));
    }
    if !r.not_assessed.is_empty() {
        let lines = r
            .not_assessed
            .iter()
            .take(LIST)
            .map(|(k, v)| format!("• {}: {}", esc(k), esc(v)));
        blocks.push(context(&format!(
            "Not assessed:\n{}",
            list(lines, r.not_assessed.len())
        )));
    }
    message(
        format!(
            "Vault usage for {host}: {} entities, {} tokens",
            opt(r.entities),
            opt(r.tokens)
        ),
        blocks,
    )
}

pub(crate) fn updates(host: &str, v: Result<&VersionReport, &str>) -> Value {
    let mut blocks = vec![
        header(&format!("Vault updates for {host}")),
        updates_block(v),
    ];
    if let Ok(r) = v {
        if !r.newer.is_empty() {
            let lines = r.newer.iter().take(5).map(|n| {
                format!(
                    "• *{}* {} {}",
                    esc(&n.version),
                    esc(n
                        .published_at
                        .as_deref()
                        .map(|d| &d[..d.len().min(10)])
                        .unwrap_or("?")),
                    esc(&n.headline)
                )
            });
            blocks.push(section(&list(lines, r.newer.len())));
        }
        blocks.push(context(&format!("Release feed: {}", esc(&r.feed))));
    }
    let text = match v {
        Ok(r) if r.update_available => format!(
            "Vault updates for {host}: {} available",
            r.latest_version.as_deref().unwrap_or("?")
        ),
        Ok(_) => format!("Vault updates for {host}: up to date"),
        Err(_) => format!("Vault updates for {host}: not checked"),
    };
    message(text, blocks)
}

/// Collection failed (Vault unreachable, sealed, login refused): say so, and why.
pub(crate) fn failure(host: &str, ask: Ask, address: &str, reason: &str) -> Value {
    let text = format!(
        "Vault {} for {host}: nothing collected from {address}",
        ask.word()
    );
    message(
        text.clone(),
        vec![
            header(&format!("Vault {} for {host}", ask.word())),
            section(&format!(
                ":warning: *Nothing collected* from {}: {}",
                esc(address),
                esc(reason)
            )),
        ],
    )
}

/// The immediate acknowledgement when collecting takes longer than Slack waits.
pub(crate) fn ack(host: &str, ask: Ask) -> Value {
    let text = format!(
        "Collecting the {} of {host} from Vault; the answer follows here in a moment.",
        ask.word()
    );
    json!({ "text": text, "blocks": [ section(&format!(":hourglass_flowing_sand: {text}")) ] })
}

/// Too many answers already pending: ask the user to try again.
pub(crate) fn busy(host: &str) -> Value {
    let text =
        format!("vaultkeeper on {host} is busy answering other commands; try again in a minute.");
    json!({ "text": text, "blocks": [ section(&text) ] })
}

/// The final body sent to Slack: the answer, who sees it, and how old it is.
pub(crate) fn respond(
    answer: &Value,
    response_type: &str,
    collected_at: Option<u64>,
    now: u64,
) -> Value {
    let mut out = answer.clone();
    out["response_type"] = json!(response_type);
    if let (Some(t), Some(blocks)) = (collected_at, out["blocks"].as_array_mut()) {
        blocks.push(context(&format!(
            "Collected {} ({} ago)",
            rfc3339_secs(t),
            coarse_words(now.saturating_sub(t))
        )));
    }
    out
}

#[cfg(test)]
mod tests;
