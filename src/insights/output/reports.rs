//! `vaultkeeper report leases` and `vaultkeeper report usage` in words.

use super::table::{na, table};
use crate::insights::leases::{expiry_words, LeaseReport};
use crate::insights::usage::UsageReport;
use std::fmt::Write;

/// The lease report: counts by mount and expiry, the longest-lived first.
pub(crate) fn leases(r: &LeaseReport) -> String {
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
        header.extend(crate::insights::leases::BUCKETS);
        let rows = r
            .by_mount
            .iter()
            .map(|(m, b)| {
                std::iter::once(m.clone())
                    .chain(
                        crate::insights::leases::BUCKETS
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

/// The usage report: requests by path and client over the window.
pub(crate) fn usage(r: &UsageReport) -> String {
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
