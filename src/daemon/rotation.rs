//! Restarts: the ones a change asks for (merged, sent to the worker) and the
//! scheduled `restartTrigger` restarts ([`super::schedule`]).

use super::core::Daemon;
use super::{restart, schedule};
use crate::systemd::UnitAction;

impl Daemon {
    pub(super) fn run_restarts(&mut self, jobs: Vec<restart::Job>) {
        let jobs = restart::merge(jobs);
        if jobs.is_empty() {
            return;
        }
        let now = crate::clock::now_unix();
        for j in jobs {
            // A restart for a change counts for the schedule's window too.
            if j.action == UnitAction::TryRestart && self.book.last.contains_key(&j.unit) {
                self.book.last.insert(j.unit.clone(), now);
            }
            let _ = self.jobs.send(j);
        }
        self.book.save(&self.spec.state_dir);
    }

    pub(super) fn rotation_step(&mut self) {
        let now = crate::clock::now_unix();
        let before = self.book.clone();
        let jobs = schedule::rotation_jobs(&self.spec, &mut self.book, &self.seed, now);
        let mut next: Option<(String, u64)> = None;
        for j in jobs {
            if j.due <= now {
                tracing::info!(
                    "scheduled restart of {} (restartTrigger of secret {}, restartInterval {})",
                    j.unit,
                    j.secret,
                    humantime::format_duration(self.spec.secrets[&j.secret].restart_interval)
                );
                self.book.last.insert(j.unit.clone(), now);
                let _ = self.jobs.send(restart::Job {
                    unit: j.unit,
                    action: UnitAction::TryRestart,
                    cause: restart::Cause::Scheduled { secret: j.secret },
                });
            } else if next.as_ref().is_none_or(|(_, d)| j.due < *d) {
                next = Some((j.unit, j.due));
            }
        }
        // Units whose due time just passed get their next window in the next pass.
        if self.book != before {
            self.book.save(&self.spec.state_dir);
            let again = schedule::rotation_jobs(&self.spec, &mut self.book, &self.seed, now);
            next = again
                .into_iter()
                .filter(|j| j.due > now)
                .min_by_key(|j| j.due)
                .map(|j| (j.unit, j.due));
        }
        self.next_rotation = next;
    }
}
