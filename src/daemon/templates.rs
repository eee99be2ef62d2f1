//! Templates in the daemon.
//!
//! - A secret whose rendered data changed marks every template that uses it;
//!   at the end of the pass each marked template is rendered once, from the
//!   current data of all its secrets, and its `onChange` is applied to its
//!   services once — however many of its secrets changed in that pass.
//! - The secrets of one template are always checked in the same pass
//!   ([`siblings`]): two secrets rotated together in Vault give one render and
//!   one restart, not two.
//! - Output unchanged → file untouched, no restart. Critical services are never
//!   restarted: they get the "restart needed" warning, as for secrets.
//! - Self-healing: the daemon watches each template's file; one deleted or
//!   modified by someone else is rendered again from the current data, without
//!   restarting anything (the services never saw the tampered file as ours).

use super::restart::{Cause, Job};
use crate::spec::{unit_name, OnChange, SecretSpec, Spec};
use crate::systemd::UnitAction;
use crate::template::{self, TemplateSpec, Written};
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct Templates {
    /// Templates to render at the end of the current pass.
    dirty: BTreeSet<String>,
    /// Templates whose file changed on disk, to verify at this time.
    verify_at: BTreeMap<String, Instant>,
}

impl Templates {
    /// Every template is rendered once at start.
    pub(crate) fn new(spec: &Spec) -> Templates {
        Templates {
            dirty: spec.templates.keys().cloned().collect(),
            verify_at: BTreeMap::new(),
        }
    }

    /// `secret`'s rendered data changed: every template using it is re-rendered.
    pub(crate) fn secret_changed(&mut self, spec: &Spec, secret: &str) {
        for t in spec.templates.values().filter(|t| t.uses(secret)) {
            self.dirty.insert(t.name.clone());
        }
    }

    /// A new spec: new and changed templates are rendered; removed ones are
    /// forgotten (their files are left in place, as for secrets).
    pub(crate) fn reload(&mut self, old: &Spec, new: &Spec) {
        for (name, t) in &old.templates {
            if !new.templates.contains_key(name) {
                tracing::info!(
                    "template {name} is no longer in the spec: it is not managed any more (its file {} is left in place)",
                    t.path.display()
                );
                self.dirty.remove(name);
                self.verify_at.remove(name);
            }
        }
        for (name, t) in &new.templates {
            let secrets_changed = t
                .secrets()
                .iter()
                .any(|s| old.secrets.get(*s) != new.secrets.get(*s));
            if old.templates.get(name) != Some(t) || secrets_changed {
                self.dirty.insert(name.clone());
            }
        }
    }

    /// The file of template `name` was touched (possibly by us: verified later).
    pub(crate) fn file_changed(&mut self, name: &str, at: Instant) {
        self.verify_at.entry(name.to_string()).or_insert(at);
    }

    pub(crate) fn next_verify(&self) -> Option<Instant> {
        self.verify_at.values().min().copied()
    }

    /// Renders the marked templates; returns the restarts their changes ask for.
    pub(crate) async fn render_dirty(&mut self, spec: &Spec) -> Vec<Job> {
        let names: Vec<String> = std::mem::take(&mut self.dirty)
            .into_iter()
            .filter(|n| spec.templates.contains_key(n))
            .collect();
        if names.is_empty() {
            return Vec::new();
        }
        let mut jobs = Vec::new();
        for (name, result) in render_all(spec, names).await {
            let t = &spec.templates[&name];
            match result {
                Ok(Written::Changed) => {
                    tracing::info!(
                        "template {name}: rendered {} (one of its secrets changed)",
                        t.path.display()
                    );
                    jobs.extend(on_change_jobs(spec, t));
                }
                Ok(Written::Unchanged) => tracing::debug!("template {name}: unchanged"),
                Err(e) => tracing::error!("{e}"),
            }
        }
        jobs
    }

    /// Self-healing: templates whose file changed are rendered again.
    pub(crate) async fn verify_due(&mut self, spec: &Spec) {
        let now = Instant::now();
        let due: Vec<String> = self
            .verify_at
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(n, _)| n.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        for n in &due {
            self.verify_at.remove(n);
        }
        let names = due
            .into_iter()
            .filter(|n| spec.templates.contains_key(n))
            .collect();
        for (name, result) in render_all(spec, names).await {
            let t = &spec.templates[&name];
            match result {
                Ok(Written::Changed) => tracing::warn!(
                    "template {name}: its file {} was deleted or modified by someone else; rendered it again from the current data",
                    t.path.display()
                ),
                Ok(Written::Unchanged) => {}
                Err(e) => tracing::error!("template {name}: cannot restore its file: {e}"),
            }
        }
    }
}

async fn render_all(
    spec: &Spec,
    names: Vec<String>,
) -> Vec<(String, Result<Written, template::TemplateError>)> {
    let spec = spec.clone();
    tokio::task::spawn_blocking(move || {
        names
            .into_iter()
            .map(|n| {
                let r = template::render_current(&spec, &spec.templates[&n]);
                (n, r)
            })
            .collect()
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// The jobs a changed template asks for; critical units get a warning instead.
pub(crate) fn on_change_jobs(spec: &Spec, t: &TemplateSpec) -> Vec<Job> {
    let action = match t.on_change {
        OnChange::Restart => UnitAction::TryRestart,
        OnChange::Reload => UnitAction::TryReloadOrRestart,
        OnChange::None => return Vec::new(),
    };
    let mut jobs = Vec::new();
    for svc in &t.services {
        let unit = unit_name(svc);
        if spec.is_critical(svc) {
            tracing::warn!(
                unit = %unit,
                template = %t.name,
                "restart needed: {unit} uses template {}, which changed; it is in criticalServices, so vaultkeeper does not restart it: restart it yourself when convenient",
                t.name
            );
        } else {
            jobs.push(Job {
                unit,
                action,
                cause: Cause::TemplateChanged {
                    template: t.name.clone(),
                },
            });
        }
    }
    jobs
}

/// Secrets not in `due` that share a template with a secret in it: checked in
/// the same pass, so one rotation of several secrets is one render.
pub(crate) fn siblings(spec: &Spec, due: &[SecretSpec]) -> Vec<SecretSpec> {
    let due_names: BTreeSet<&str> = due.iter().map(|s| s.name.as_str()).collect();
    let mut extra: BTreeSet<&str> = BTreeSet::new();
    for t in spec.templates.values() {
        let used = t.secrets();
        if used.iter().any(|s| due_names.contains(s)) {
            extra.extend(used.into_iter().filter(|s| !due_names.contains(s)));
        }
    }
    extra
        .into_iter()
        .filter_map(|s| spec.secrets.get(s).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::restart;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::from_json(
            "t",
            &json!({
                "vault": {"address": "http://127.0.0.1:8200"},
                "criticalServices": ["postgresql"],
                "secrets": {
                    "a": {"secretPath": "a"}, "b": {"secretPath": "b"},
                    "c": {"secretPath": "c"}, "d": {"secretPath": "d"}
                },
                "templates": {
                    "ab": {"content": "{{ a.x }}{{ b.y }}", "services": ["app", "postgresql", "web.service"]},
                    "c.env": {"envFrom": ["c"], "services": ["app"], "onChange": "reload"},
                    "quiet": {"envFrom": ["d"], "services": ["app"], "onChange": "none"}
                }
            })
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn a_change_marks_the_templates_that_use_the_secret_once() {
        let s = spec();
        let mut t = Templates::new(&s);
        assert_eq!(t.dirty.len(), 3);
        t.dirty.clear();
        t.secret_changed(&s, "a");
        t.secret_changed(&s, "b");
        assert_eq!(t.dirty.iter().collect::<Vec<_>>(), ["ab"]);
        let mut s2 = s.clone();
        s2.templates.remove("quiet");
        s2.secrets.get_mut("c").unwrap().secret_path = "c2".into();
        t.dirty.clear();
        t.reload(&s, &s2);
        assert_eq!(t.dirty.iter().collect::<Vec<_>>(), ["c.env"]);
    }

    #[test]
    fn critical_units_are_never_in_the_jobs_and_actions_follow_on_change() {
        let s = spec();
        let jobs = on_change_jobs(&s, &s.templates["ab"]);
        let units: Vec<(&str, UnitAction)> =
            jobs.iter().map(|j| (j.unit.as_str(), j.action)).collect();
        assert_eq!(
            units,
            [
                ("app.service", UnitAction::TryRestart),
                ("web.service", UnitAction::TryRestart)
            ]
        );
        let jobs = on_change_jobs(&s, &s.templates["c.env"]);
        assert_eq!(jobs[0].action, UnitAction::TryReloadOrRestart);
        assert!(on_change_jobs(&s, &s.templates["quiet"]).is_empty());
        // Two templates and a secret asking for the same unit: one job, restart wins.
        let mut all = on_change_jobs(&s, &s.templates["ab"]);
        all.extend(on_change_jobs(&s, &s.templates["c.env"]));
        let merged = restart::merge(all);
        assert_eq!(merged.iter().filter(|j| j.unit == "app.service").count(), 1);
        assert_eq!(merged[0].action, UnitAction::TryRestart);
    }

    #[test]
    fn the_secrets_of_one_template_are_checked_together() {
        let s = spec();
        let due = vec![s.secrets["a"].clone()];
        let names: Vec<String> = siblings(&s, &due).into_iter().map(|x| x.name).collect();
        assert_eq!(names, ["b"]);
        let due = vec![s.secrets["c"].clone(), s.secrets["d"].clone()];
        assert!(siblings(&s, &due).is_empty());
    }
}
