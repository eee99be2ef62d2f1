//! Applying a secret's `onChange` (and the schedule's restarts) to its services:
//! `systemctl try-restart` / `try-reload-or-restart` (never starting a stopped
//! unit), one unit at a time, each with a timeout and its outcome logged. Units
//! in `criticalServices` are never touched: [`restart_needed`] reports them.

use crate::spec::{unit_name, OnChange, SecretSpec, Spec};
use crate::systemd::{self, UnitAction};
use std::collections::BTreeMap;
use tokio::sync::mpsc;

/// Why a unit is restarted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    Changed { secret: String },
    Scheduled { secret: String },
    TemplateChanged { template: String },
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Changed { secret } => write!(f, "secret {secret} changed"),
            Cause::Scheduled { secret } => {
                write!(f, "scheduled restart (restartTrigger of secret {secret})")
            }
            Cause::TemplateChanged { template } => write!(f, "template {template} changed"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub unit: String,
    pub action: UnitAction,
    pub cause: Cause,
}

/// What a changed secret asks for: the jobs for its non-critical units, and the
/// critical units that need a restart nobody will do automatically.
pub(crate) fn on_change_jobs(spec: &Spec, secret: &SecretSpec) -> (Vec<Job>, Vec<String>) {
    let action = match secret.on_change {
        OnChange::Restart => UnitAction::TryRestart,
        OnChange::Reload => UnitAction::TryReloadOrRestart,
        OnChange::None => return (Vec::new(), Vec::new()),
    };
    let mut jobs = Vec::new();
    let mut critical = Vec::new();
    for svc in &secret.services {
        let unit = unit_name(svc);
        if spec.is_critical(svc) {
            critical.push(unit);
        } else {
            jobs.push(Job {
                unit,
                action,
                cause: Cause::Changed {
                    secret: secret.name.clone(),
                },
            });
        }
    }
    (jobs, critical)
}

/// Merges jobs for the same unit (a restart wins over a reload), keeping order.
pub(crate) fn merge(jobs: Vec<Job>) -> Vec<Job> {
    let mut by_unit: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<Job> = Vec::new();
    for j in jobs {
        match by_unit.get(&j.unit) {
            Some(&i) => {
                if j.action == UnitAction::TryRestart {
                    out[i].action = UnitAction::TryRestart;
                }
            }
            None => {
                by_unit.insert(j.unit.clone(), out.len());
                out.push(j);
            }
        }
    }
    out
}

/// A critical unit whose secret changed: logged at WARN as "restart needed".
///
/// This is the hook for alerting (Slack): the alerting code calls its sender here.
pub(crate) fn restart_needed(unit: &str, secret: &str) {
    crate::metrics::global()
        .restarts_skipped
        .with_label_values(&[unit, crate::metrics::SKIP_CRITICAL])
        .inc();
    tracing::warn!(
        unit,
        secret,
        "restart needed: {unit} uses secret {secret}, which changed; it is in criticalServices, so vaultkeeper does not restart it: restart it yourself when convenient"
    );
}

/// Runs jobs one at a time, each outcome logged.
pub(crate) async fn worker(mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        let verb = job.action.verb();
        match systemd::unit_action(job.action, &job.unit, systemd::SYSTEMCTL_TIMEOUT).await {
            Ok(()) => {
                let cause = match job.cause {
                    Cause::Changed { .. } | Cause::TemplateChanged { .. } => "change",
                    Cause::Scheduled { .. } => "schedule",
                };
                crate::metrics::global()
                    .restarts
                    .with_label_values(&[&job.unit, cause])
                    .inc();
                tracing::info!(unit = %job.unit, "systemctl {verb} {}: done ({})", job.unit, job.cause)
            }
            Err(e) => {
                crate::metrics::global()
                    .restart_failures
                    .with_label_values(&[&job.unit])
                    .inc();
                tracing::warn!(unit = %job.unit, "{e} ({})", job.cause)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_units_are_reported_not_restarted() {
        let spec = Spec::from_json(
            "t",
            &serde_json::json!({
                "vault": {"address": "http://127.0.0.1:8200"},
                "criticalServices": ["postgresql.service"],
                "secrets": {
                    "db": {"secretPath": "a", "services": ["app", "postgresql"]},
                    "r": {"secretPath": "b", "services": ["app", "web"], "onChange": "reload"},
                    "n": {"secretPath": "c", "services": ["app"], "onChange": "none"}
                }
            })
            .to_string(),
        )
        .unwrap();
        let (jobs, critical) = on_change_jobs(&spec, &spec.secrets["db"]);
        assert_eq!(
            jobs,
            [Job {
                unit: "app.service".into(),
                action: UnitAction::TryRestart,
                cause: Cause::Changed {
                    secret: "db".into()
                }
            }]
        );
        assert_eq!(critical, ["postgresql.service"]);
        let (reload, _) = on_change_jobs(&spec, &spec.secrets["r"]);
        assert!(reload
            .iter()
            .all(|j| j.action == UnitAction::TryReloadOrRestart));
        assert_eq!(on_change_jobs(&spec, &spec.secrets["n"]), (vec![], vec![]));
        let merged = merge([reload, jobs].concat());
        let got: Vec<(&str, UnitAction)> =
            merged.iter().map(|j| (j.unit.as_str(), j.action)).collect();
        assert_eq!(
            got,
            [
                ("app.service", UnitAction::TryRestart),
                ("web.service", UnitAction::TryReloadOrRestart)
            ]
        );
    }
}
