//! [`Report`]: the findings and their score, round(100 × points earned ÷
//! weight of the checks that were assessed).

use super::finding::{Finding, Outcome};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
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
    pub(crate) fn token_read_nothing(&self) -> bool {
        let mut with_token = self
            .findings
            .iter()
            .filter(|f| !TOKENLESS.contains(&f.id))
            .peekable();
        with_token.peek().is_some() && with_token.all(|f| f.outcome == Outcome::NotAssessed)
    }
}

pub(crate) fn score(findings: Vec<Finding>, address: String) -> Report {
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
