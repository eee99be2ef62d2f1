//! `vaultkeeper posture` and `vaultkeeper version-check` in words.

use crate::insights::posture::{Outcome, Report};
use crate::insights::version::VersionReport;
use std::fmt::Write;

/// The posture report: the score, then each check with its outcome.
pub(crate) fn posture(r: &Report) -> String {
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

/// The version check: this server, the latest release, and what to do.
pub(crate) fn version(r: &VersionReport) -> String {
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
