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

/// Rows as aligned columns: comfy-table without borders, two spaces between
/// columns, every line indented by `indent`, no trailing spaces.
pub fn table(indent: &str, header: Option<&[&str]>, rows: Vec<Vec<String>>) -> String {
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

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// "3 min", "45 s", "2h 5m": an age for people.
pub fn age_words(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=7199 => format!("{} min", secs / 60),
        _ => human_secs(secs),
    }
}

/// One secret's state in words: fresh, served from the cache (and how old the
/// cached copy is), or never fetched.
pub fn secret_state_words(x: &super::status::SecretState, now: u64) -> String {
    if let (None, Some(_)) = (x.from_cache_since, x.boot_cache_since) {
        return match x.confirmed_at {
            Some(c) => format!(
                "rendered at boot from the cache Vault confirmed {} ago, not re-checked yet",
                age_words(now.saturating_sub(c))
            ),
            None => "rendered at boot from the cache, not re-checked yet".to_string(),
        };
    }
    match (x.from_cache_since, x.last_fetch) {
        (Some(_), Some(f)) => format!(
            "served from cache, {} old",
            age_words(now.saturating_sub(f))
        ),
        (Some(since), None) => format!("served from cache since {}", ago(now, since)),
        (None, Some(f)) => format!("fetched {} ago", age_words(now.saturating_sub(f))),
        (None, None) => "never fetched".to_string(),
    }
}

fn secrets_table(o: &mut String, secrets: &[super::status::SecretState], now: u64) {
    let _ = writeln!(o, "\nSecrets ({})", secrets.len());
    let rows = secrets
        .iter()
        .map(|x| {
            vec![
                x.name.clone(),
                secret_state_words(x, now),
                x.last_fetch.map_or("never".to_string(), |t| ago(now, t)),
                x.from_cache_since.map_or("-".to_string(), rfc3339),
            ]
        })
        .collect();
    o.push_str(&table(
        "  ",
        Some(&["NAME", "STATE", "LAST FETCH FROM VAULT", "FROM CACHE SINCE"]),
        rows,
    ));
    for x in secrets {
        if let Some(e) = &x.last_error {
            let _ = writeln!(
                o,
                "  {}: last error: {}",
                x.name,
                crate::report::one_line(e)
            );
        }
    }
}

pub fn status(s: &Status, now: u64) -> String {
    let v = &s.server;
    let mut rows = vec![row(&["Server", &v.address])];
    let state = if !v.initialized {
        "NOT INITIALISED"
    } else if v.sealed {
        "SEALED"
    } else {
        "unsealed"
    };
    rows.push(row(&["  state", state]));
    rows.push(row(&[
        "  version",
        &format!(
            "{}{}",
            v.version.as_deref().unwrap_or("unknown"),
            v.build_date
                .as_deref()
                .map(|d| format!(" (built {d})"))
                .unwrap_or_default()
        ),
    ]));
    let ha = match (v.ha_enabled, v.is_leader) {
        (Some(true), Some(true)) => "enabled, this node is the leader".to_string(),
        (Some(true), _) => format!(
            "enabled, leader {}",
            v.leader_address.as_deref().unwrap_or("unknown")
        ),
        (Some(false), _) => "disabled".into(),
        (None, _) => "unknown".into(),
    };
    rows.push(row(&["  HA", &ha]));
    rows.push(row(&[
        "  cluster",
        v.cluster_name.as_deref().unwrap_or("unknown"),
    ]));
    let na = |key: &str| {
        s.not_assessed
            .get(key)
            .map(|r| format!("not assessed: {r}"))
    };
    let audit = na("auditDevices").unwrap_or_else(|| {
        let list = s
            .audit_devices
            .iter()
            .flatten()
            .map(|d| format!("{} ({})", d.path, d.kind))
            .collect::<Vec<_>>();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    });
    rows.push(row(&["Audit devices", &audit]));
    rows.push(row(&[
        "Auth methods",
        &na("authMethods").unwrap_or_else(|| s.auth_methods.unwrap_or(0).to_string()),
    ]));
    rows.push(row(&[
        "Secrets engines",
        &na("secretsEngines").unwrap_or_else(|| s.secrets_engines.unwrap_or(0).to_string()),
    ]));
    let token = na("token").unwrap_or_else(|| match &s.token {
        Some(t) => format!(
            "{} from {}, {}, policies {}",
            t.display_name.as_deref().unwrap_or("?"),
            t.source.label(),
            if t.ttl_seconds == 0 {
                "never expires".to_string()
            } else {
                format!("TTL {}", human_secs(t.ttl_seconds))
            },
            t.policies.join(", ")
        ),
        None => "none".to_string(),
    });
    rows.push(row(&["Token", &token]));
    let mut o = table("", None, rows);
    if let Some(w) = &s.audit_warning {
        let _ = writeln!(o, "  !!! WARNING: {w}");
    }
    addresses_table(&mut o, &s.addresses, now);
    secrets_table(&mut o, &s.secrets, now);
    o
}

/// With several `vault.address`es: each one, in this host's order, with its
/// last state (one address: nothing, the Server line says it all).
pub fn addresses_table(
    o: &mut String,
    addresses: &[crate::vault::failover::AddressState],
    now: u64,
) {
    if addresses.len() < 2 {
        return;
    }
    let _ = writeln!(
        o,
        "\nVault addresses ({}, in this host's order)",
        addresses.len()
    );
    let rows = addresses
        .iter()
        .map(|a| {
            let mut role = Vec::new();
            if a.preferred {
                role.push("preferred");
            }
            if a.in_use {
                role.push("in use");
            }
            vec![
                a.address.clone(),
                if role.is_empty() {
                    "-".to_string()
                } else {
                    role.join(", ")
                },
                match (&a.last_outcome, a.last_at) {
                    (Some(out), Some(t)) => format!("{out} {}", ago(now, t)),
                    _ => "not asked yet".to_string(),
                },
                a.last_ok_at.map_or("never".to_string(), |t| ago(now, t)),
            ]
        })
        .collect();
    o.push_str(&table(
        "  ",
        Some(&["ADDRESS", "ROLE", "LAST REQUEST", "LAST ANSWER"]),
        rows,
    ));
    for a in addresses {
        if let Some(e) = &a.last_error {
            let _ = writeln!(
                o,
                "  {}: last error: {}",
                a.address,
                crate::report::one_line(e)
            );
        }
    }
}

/// What `vaultkeeper status` says when Vault cannot be reached at all: the
/// reason, and each secret with where its files come from now.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outage {
    pub server: OutageServer,
    pub secrets: Vec<super::status::SecretState>,
    pub addresses: Vec<crate::vault::failover::AddressState>,
}

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutageServer {
    pub address: String,
    /// Always false here (the JSON of a reachable server has no such key).
    pub reachable: bool,
    pub error: String,
}

pub fn outage(x: &Outage, now: u64) -> String {
    let mut o = table(
        "",
        None,
        vec![
            row(&["Server", &x.server.address]),
            row(&["  state", "UNREACHABLE"]),
            row(&["  error", &x.server.error]),
        ],
    );
    addresses_table(&mut o, &x.addresses, now);
    secrets_table(&mut o, &x.secrets, now);
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
        let _ = writeln!(o, "\nLeases by mount and TTL");
        let mut header = vec!["MOUNT"];
        header.extend(super::leases::BUCKETS);
        let rows = r
            .by_mount
            .iter()
            .map(|(m, b)| {
                std::iter::once(m.clone())
                    .chain(
                        super::leases::BUCKETS
                            .iter()
                            .map(|k| b.get(*k).copied().unwrap_or(0).to_string()),
                    )
                    .collect()
            })
            .collect();
        o.push_str(&table("  ", Some(&header), rows));
        if !r.longest_leases.is_empty() {
            let _ = writeln!(o, "\nLongest-lived leases");
            let rows = r
                .longest_leases
                .iter()
                .map(|l| {
                    vec![
                        l.id.clone(),
                        expiry_words(l.ttl_seconds, l.expire_time.as_deref()),
                    ]
                })
                .collect();
            o.push_str(&table("  ", Some(&["LEASE", "EXPIRY"]), rows));
        }
    }
    if !na(&mut o, &r.not_assessed, "tokens") {
        let _ = writeln!(o, "\nLongest-lived tokens");
        let rows = r
            .longest_tokens
            .iter()
            .map(|t| {
                vec![
                    t.display_name.clone(),
                    expiry_words(t.ttl_seconds, t.expire_time.as_deref()),
                    t.policies.join(","),
                    t.path.clone(),
                ]
            })
            .collect();
        o.push_str(&table(
            "  ",
            Some(&["TOKEN", "EXPIRY", "POLICIES", "CREATED VIA"]),
            rows,
        ));
        let _ = writeln!(
            o,
            "\nTokens without expiry: {}",
            r.tokens_without_expiry.len()
        );
        if !r.tokens_without_expiry.is_empty() {
            let rows = r
                .tokens_without_expiry
                .iter()
                .map(|t| {
                    vec![
                        t.display_name.clone(),
                        t.accessor.clone(),
                        t.policies.join(","),
                        t.path.clone(),
                    ]
                })
                .collect();
            o.push_str(&table(
                "  ",
                Some(&["TOKEN", "ACCESSOR", "POLICIES", "CREATED VIA"]),
                rows,
            ));
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

#[cfg(test)]
mod tests {
    use crate::vault::failover::AddressState;

    #[test]
    fn status_lists_each_address_with_its_role_and_last_state() {
        let now = 1_800_000_000;
        let a =
            |addr: &str, preferred, in_use, out: Option<&str>, err: Option<&str>| AddressState {
                address: addr.into(),
                preferred,
                in_use,
                last_outcome: out.map(str::to_string),
                last_at: out.map(|_| now - 30),
                last_ok_at: (out == Some("success")).then_some(now - 30),
                last_error: err.map(str::to_string),
            };
        let list = vec![
            a(
                "https://v1:8200",
                true,
                false,
                Some("connection_error"),
                Some("connection failed (Connection refused (os error 111))"),
            ),
            a("https://v2:8200", false, true, Some("success"), None),
            a("https://v3:8200", false, false, None, None),
        ];
        let mut o = String::new();
        super::addresses_table(&mut o, &list, now);
        let lines: Vec<&str> = o.lines().collect();
        assert_eq!(lines[1], "Vault addresses (3, in this host's order)");
        assert!(lines[2].starts_with("  ADDRESS"), "{o}");
        assert!(
            lines[3].contains("https://v1:8200")
                && lines[3].contains("preferred")
                && lines[3].contains("connection_error")
                && lines[3].contains("30s ago")
                && lines[3].ends_with("never"),
            "{o}"
        );
        assert!(
            lines[4].contains("in use") && lines[4].contains("success"),
            "{o}"
        );
        assert!(lines[5].contains("not asked yet"), "{o}");
        assert_eq!(
            lines[6],
            "  https://v1:8200: last error: connection failed (Connection refused (os error 111))"
        );
        // One address: the Server line says it all.
        let mut o = String::new();
        super::addresses_table(&mut o, &list[..1], now);
        assert_eq!(o, "");
    }
}
