//! Human rendering of the insights reports. `--json` prints the serde form
//! instead (documented in docs/reference/insights-json.md).

use super::leases::{expiry_words, LeaseReport};
use super::posture::{Outcome, Report};
use super::status::Status;
use super::usage::UsageReport;
use super::version::VersionReport;
use super::{human_secs, rfc3339};
use std::fmt::Write;

fn ago(now: u64, t: u64) -> String {
    format!("{} ({} ago)", rfc3339(t), human_secs(now.saturating_sub(t)))
}

fn na(out: &mut String, map: &std::collections::BTreeMap<String, String>, key: &str) -> bool {
    if let Some(r) = map.get(key) {
        let _ = writeln!(out, "not assessed: {r}");
        true
    } else {
        false
    }
}

pub fn status(s: &Status, now: u64) -> String {
    let mut o = String::new();
    let v = &s.server;
    let _ = writeln!(o, "Server      {}", v.address);
    let _ = writeln!(
        o,
        "  state     {}",
        if !v.initialized {
            "NOT INITIALISED"
        } else if v.sealed {
            "SEALED"
        } else {
            "unsealed"
        }
    );
    let _ = writeln!(
        o,
        "  version   {}{}",
        v.version.as_deref().unwrap_or("unknown"),
        v.build_date
            .as_deref()
            .map(|d| format!(" (built {d})"))
            .unwrap_or_default()
    );
    let ha = match (v.ha_enabled, v.is_leader) {
        (Some(true), Some(true)) => "enabled, this node is the leader".to_string(),
        (Some(true), _) => format!(
            "enabled, leader {}",
            v.leader_address.as_deref().unwrap_or("unknown")
        ),
        (Some(false), _) => "disabled".into(),
        (None, _) => "unknown".into(),
    };
    let _ = writeln!(o, "  HA        {ha}");
    let _ = writeln!(
        o,
        "  cluster   {}",
        v.cluster_name.as_deref().unwrap_or("unknown")
    );
    let _ = write!(o, "Audit       ");
    if !na(&mut o, &s.not_assessed, "auditDevices") {
        let list = s
            .audit_devices
            .iter()
            .flatten()
            .map(|d| format!("{} ({})", d.path, d.kind))
            .collect::<Vec<_>>();
        let _ = writeln!(
            o,
            "{}",
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        );
    }
    if let Some(w) = &s.audit_warning {
        let _ = writeln!(o, "  !!! WARNING: {w}");
    }
    let _ = write!(o, "Auth methods ");
    if !na(&mut o, &s.not_assessed, "authMethods") {
        let _ = writeln!(o, "{}", s.auth_methods.unwrap_or(0));
    }
    let _ = write!(o, "Secrets engines ");
    if !na(&mut o, &s.not_assessed, "secretsEngines") {
        let _ = writeln!(o, "{}", s.secrets_engines.unwrap_or(0));
    }
    let _ = write!(o, "Token       ");
    if !na(&mut o, &s.not_assessed, "token") {
        if let Some(t) = &s.token {
            let _ = writeln!(
                o,
                "{} from {}, {}, policies {}",
                t.display_name.as_deref().unwrap_or("?"),
                match t.source {
                    super::TokenSource::Environment => "VAULT_TOKEN",
                    super::TokenSource::AppRole => "AppRole",
                },
                if t.ttl_seconds == 0 {
                    "never expires".to_string()
                } else {
                    format!("TTL {}", human_secs(t.ttl_seconds))
                },
                t.policies.join(", ")
            );
        }
    }
    let _ = writeln!(o, "Secrets     {}", s.secrets.len());
    for x in &s.secrets {
        let fetched = x.last_fetch.map_or("never fetched".to_string(), |t| {
            format!("last fetch {}", ago(now, t))
        });
        let cache = x
            .from_cache_since
            .map(|t| format!(", SERVED FROM CACHE since {}", ago(now, t)))
            .unwrap_or_default();
        let err = x
            .last_error
            .as_deref()
            .map(|e| format!("\n    last error: {e}"))
            .unwrap_or_default();
        let _ = writeln!(o, "  {:<20} {fetched}{cache}{err}", x.name);
    }
    o
}

pub fn posture(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Posture of {}: {}/100 ({} of {} weight assessed{})",
        r.address,
        r.score,
        r.assessed_weight,
        r.total_weight,
        if r.not_assessed > 0 {
            format!(", {} check(s) not assessed", r.not_assessed)
        } else {
            String::new()
        }
    );
    for f in &r.findings {
        let mark = match f.outcome {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::NotAssessed => "NOT ASSESSED",
            Outcome::NotApplicable => "N/A",
        };
        let _ = writeln!(
            o,
            "\n[{mark}] {} — {}/{} ({})",
            f.title, f.points, f.weight, f.id
        );
        for e in &f.evidence {
            let _ = writeln!(o, "    seen: {e}");
        }
        if let Some(fix) = &f.fix {
            let _ = writeln!(o, "    fix:  {fix}");
        }
    }
    o
}

pub fn version(r: &VersionReport) -> String {
    let mut o = String::new();
    if r.update_available {
        let _ = writeln!(
            o,
            "Update available: {} → {} ({} newer release(s), {} days behind)",
            r.server_version,
            r.latest_version.as_deref().unwrap_or("?"),
            r.versions_behind,
            r.days_behind.map_or("?".to_string(), |d| d.to_string())
        );
        for n in &r.newer {
            let _ = writeln!(
                o,
                "  {:<10} {}  {}",
                n.version,
                n.published_at
                    .as_deref()
                    .map(|d| &d[..d.len().min(10)])
                    .unwrap_or("?"),
                n.headline
            );
        }
    } else {
        let _ = writeln!(
            o,
            "Up to date: {} (latest release {})",
            r.server_version,
            r.latest_version.as_deref().unwrap_or("unknown")
        );
    }
    let _ = writeln!(o, "(feed: {})", r.feed);
    o
}

pub fn leases(r: &LeaseReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}{}",
        r.headline,
        if r.truncated {
            " (stopped at the lookup limit)"
        } else {
            ""
        }
    );
    if !na(&mut o, &r.not_assessed, "leases") {
        let _ = writeln!(
            o,
            "\nLeases by mount        {}",
            super::leases::BUCKETS.join(" | ")
        );
        for (m, b) in &r.by_mount {
            let counts: Vec<String> = super::leases::BUCKETS
                .iter()
                .map(|k| b.get(*k).copied().unwrap_or(0).to_string())
                .collect();
            let _ = writeln!(o, "  {m:<20} {}", counts.join(" | "));
        }
        if !r.longest_leases.is_empty() {
            let _ = writeln!(o, "\nLongest-lived leases");
            for l in &r.longest_leases {
                let _ = writeln!(
                    o,
                    "  {}  {}",
                    l.id,
                    expiry_words(l.ttl_seconds, l.expire_time.as_deref())
                );
            }
        }
    }
    if !na(&mut o, &r.not_assessed, "tokens") {
        let _ = writeln!(o, "\nLongest-lived tokens");
        for t in &r.longest_tokens {
            let _ = writeln!(
                o,
                "  {:<24} {}  policies {}  via {}",
                t.display_name,
                expiry_words(t.ttl_seconds, t.expire_time.as_deref()),
                t.policies.join(","),
                t.path
            );
        }
        let _ = writeln!(
            o,
            "\nTokens without expiry: {}",
            r.tokens_without_expiry.len()
        );
        for t in &r.tokens_without_expiry {
            let _ = writeln!(
                o,
                "  {:<24} accessor {}  policies {}  via {}",
                t.display_name,
                t.accessor,
                t.policies.join(","),
                t.path
            );
        }
    }
    o
}

pub fn usage(r: &UsageReport) -> String {
    let mut o = String::new();
    let opt = |v: Option<usize>| v.map_or("not assessed".to_string(), |n| n.to_string());
    let _ = writeln!(o, "Entities    {}", opt(r.entities));
    let _ = writeln!(o, "Tokens      {}", opt(r.tokens));
    for (p, n) in &r.tokens_by_path {
        let _ = writeln!(o, "  {p:<28} {n}");
    }
    let _ = writeln!(o, "Secrets per KV mount");
    for (m, n) in &r.secrets_by_mount {
        let _ = writeln!(o, "  {m:<28} {n}");
    }
    let _ = writeln!(o, "Auth methods");
    for a in &r.auth_methods {
        let _ = writeln!(
            o,
            "  {:<28} {:<10} {} live token(s)",
            a.path,
            a.kind,
            opt(a.tokens)
        );
    }
    match &r.audit {
        Some(s) => {
            let _ = writeln!(
                o,
                "Requests (audit listener, {} entries since {})",
                s.entries, s.time
            );
            for (k, n) in &s.requests_by_operation {
                let _ = writeln!(o, "  {k:<28} {n}");
            }
        }
        None => {
            let _ = writeln!(o, "Requests    {}", r.audit_listener);
        }
    }
    let _ = writeln!(o, "Suggestions {}", r.suggestions.len());
    for s in &r.suggestions {
        let _ = writeln!(o, "  - {}", s.text);
        for e in &s.evidence {
            let _ = writeln!(o, "      seen: {e}");
        }
    }
    for (k, r) in &r.not_assessed {
        let _ = writeln!(o, "not assessed: {k}: {r}");
    }
    o
}
