//! [`Finding`]: one check's weight, the points it earned, its [`Outcome`], the
//! evidence seen and the fix.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Outcome {
    Pass,
    /// Part of the points.
    Warn,
    Fail,
    NotAssessed,
    NotApplicable,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Finding {
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
    pub(crate) fn new(id: &'static str, title: &'static str, weight: u32) -> Finding {
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

    pub(crate) fn not_assessed(mut self, reason: impl Into<String>) -> Finding {
        self.outcome = Outcome::NotAssessed;
        self.points = 0;
        self.evidence = vec![reason.into()];
        self
    }

    pub(crate) fn not_applicable(mut self, reason: impl Into<String>) -> Finding {
        self.outcome = Outcome::NotApplicable;
        self.points = 0;
        self.evidence = vec![reason.into()];
        self
    }

    /// Sets points (clamped to the weight) and the outcome they imply; a fix is
    /// kept only when points are missing.
    pub(crate) fn scored(
        mut self,
        points: u32,
        evidence: Vec<String>,
        fix: impl Into<String>,
    ) -> Finding {
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
    pub(crate) fn fraction(&self, good: usize, total: usize) -> u32 {
        if total == 0 {
            return self.weight;
        }
        (self.weight as usize * good / total) as u32
    }

    pub(crate) fn counts(&self) -> bool {
        matches!(self.outcome, Outcome::Pass | Outcome::Warn | Outcome::Fail)
    }
}
