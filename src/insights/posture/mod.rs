//! `vaultkeeper posture`: a 0–100 score from weighted checks. Each finding has
//! its weight, the points it earned, the evidence seen and the fix.
//!
//! score = round(100 × points earned ÷ weight of the checks that were assessed).
//! A check the token may not read is `notAssessed` and a check that does not
//! apply (no AppRole mount, no TLS) is `notApplicable`; neither counts.

pub mod checks;
pub mod policy;
pub mod tls;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Pass,
    /// Part of the points.
    Warn,
    Fail,
    NotAssessed,
    NotApplicable,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable identifier (documented in docs/reference/insights-json.md).
    pub id: &'static str,
    pub title: &'static str,
    pub weight: u32,
    pub points: u32,
    pub outcome: Outcome,
    pub evidence: Vec<String>,
    /// What to do; `None` when nothing needs doing.
    pub fix: Option<String>,
}

impl Finding {
    pub fn new(id: &'static str, title: &'static str, weight: u32) -> Finding {
        Finding {
            id,
            title,
            weight,
            points: 0,
            outcome: Outcome::NotAssessed,
            evidence: Vec::new(),
            fix: None,
        }
    }

    pub fn not_assessed(mut self, reason: impl Into<String>) -> Finding {
        self.outcome = Outcome::NotAssessed;
        self.points = 0;
        self.evidence = vec![reason.into()];
        self
    }

    pub fn not_applicable(mut self, reason: impl Into<String>) -> Finding {
        self.outcome = Outcome::NotApplicable;
        self.points = 0;
        self.evidence = vec![reason.into()];
        self
    }

    /// Sets points (clamped to the weight) and the outcome they imply; a fix is
    /// kept only when points are missing.
    pub fn scored(mut self, points: u32, evidence: Vec<String>, fix: impl Into<String>) -> Finding {
        self.points = points.min(self.weight);
        self.outcome = if self.points == self.weight {
            Outcome::Pass
        } else if self.points == 0 {
            Outcome::Fail
        } else {
            Outcome::Warn
        };
        self.evidence = evidence;
        self.fix = (self.points < self.weight).then(|| fix.into());
        self
    }

    /// `weight × good ÷ total`, rounded down (0 of 0 = all points).
    pub fn fraction(&self, good: usize, total: usize) -> u32 {
        if total == 0 {
            return self.weight;
        }
        (self.weight as usize * good / total) as u32
    }

    pub fn counts(&self) -> bool {
        matches!(self.outcome, Outcome::Pass | Outcome::Warn | Outcome::Fail)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub score: u32,
    pub address: String,
    /// Sum of the weights of the assessed checks.
    pub assessed_weight: u32,
    pub total_weight: u32,
    pub not_assessed: usize,
    pub findings: Vec<Finding>,
}

/// The checks that need no rights (the listener's TLS, sys/ha-status and the
/// server's build date are answered to any caller).
const TOKENLESS: [&str; 4] = ["tls", "tls_certificate_expiry", "ha", "version_age"];

impl Report {
    /// True when every check that needs the token could not be assessed: the
    /// token is wrong, expired, or has none of the insights policy's rights,
    /// and the score describes only the listener.
    pub fn token_read_nothing(&self) -> bool {
        let mut with_token = self
            .findings
            .iter()
            .filter(|f| !TOKENLESS.contains(&f.id))
            .peekable();
        with_token.peek().is_some() && with_token.all(|f| f.outcome == Outcome::NotAssessed)
    }
}

pub fn score(findings: Vec<Finding>, address: String) -> Report {
    let assessed: u32 = findings
        .iter()
        .filter(|f| f.counts())
        .map(|f| f.weight)
        .sum();
    let points: u32 = findings
        .iter()
        .filter(|f| f.counts())
        .map(|f| f.points)
        .sum();
    let score = if assessed == 0 {
        0
    } else {
        ((points as f64 * 100.0 / assessed as f64).round()) as u32
    };
    Report {
        score,
        address,
        assessed_weight: assessed,
        total_weight: findings.iter().map(|f| f.weight).sum(),
        not_assessed: findings
            .iter()
            .filter(|f| f.outcome == Outcome::NotAssessed)
            .count(),
        findings,
    }
}

/// Runs every check with the insights token and scores them.
pub async fn assess(
    client: &crate::vault::VaultClient,
    server: &crate::insights::status::Server,
    timeout: std::time::Duration,
) -> Report {
    let ctx = checks::Ctx {
        client,
        server,
        timeout,
        now: crate::state::now_unix(),
    };
    score(checks::run_all(&ctx).await, server.address.clone())
}

#[cfg(test)]
mod tests;
