//! Configuration that changes under the daemon: the spec file (SIGHUP or a
//! change on disk: re-validate, keep the old spec when the new one is invalid,
//! re-render only what changed), the AppRole credential files, and the
//! watches on outputs, spec and templates.

use super::audit_task::AuditTask;
use super::core::{critical_note, shortest_refresh, Daemon, TokenState, DEBOUNCE};
use super::status_line;
use super::token::TokenAction;
use super::tracked::Tracked;
use super::{schedule, watch};
use crate::fetch;
use crate::vault::VaultClient;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::time::Instant;

impl Daemon {
    pub(super) fn watch_config(&mut self) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        let creds = [
            self.spec.approle.role_id_file.as_path(),
            self.spec.approle.secret_id_file.as_path(),
        ];
        let outputs: Vec<(String, PathBuf)> = self
            .spec
            .secrets
            .values()
            .map(|s| (s.name.clone(), s.output_dir.clone()))
            .collect();
        let template_files: Vec<(String, PathBuf)> = self
            .spec
            .templates
            .values()
            .map(|t| (t.name.clone(), t.path.clone()))
            .collect();
        w.watch_config(&self.spec_path, &creds, &outputs, &template_files);
        for s in self.spec.secrets.values() {
            w.watch_generation(&s.name, &s.output_dir);
        }
    }

    pub(super) fn on_change(&mut self, c: watch::Change) {
        let soon = Instant::now() + DEBOUNCE;
        match c {
            watch::Change::Spec => {
                self.spec_check_at.get_or_insert(soon);
            }
            watch::Change::Credentials => {
                self.creds_check_at.get_or_insert(soon);
            }
            watch::Change::Output(name) => {
                if let Some(t) = self.tracked.get_mut(&name) {
                    t.verify_at.get_or_insert(soon);
                }
            }
            watch::Change::Template(name) => self.templates.file_changed(&name, soon),
        }
    }

    pub(super) async fn config_checks(&mut self) {
        let now = Instant::now();
        if self.spec_check_at.is_some_and(|t| t <= now) {
            self.spec_check_at = None;
            match std::fs::read(&self.spec_path) {
                Ok(bytes) if bytes != self.spec_bytes => self.reload("the spec file changed").await,
                Ok(_) => {}
                Err(e) => tracing::debug!("spec file not readable right now: {e}"),
            }
        }
        if self.creds_check_at.is_some_and(|t| t <= now) {
            self.creds_check_at = None;
            if let Ok(new) = fetch::read_credentials(&self.spec.approle) {
                let same = self
                    .creds
                    .as_ref()
                    .is_some_and(|c| c.role_id == new.role_id && c.secret_id == new.secret_id);
                if !same && self.login_failures.may_try_now() {
                    tracing::info!("the AppRole credential files changed: logging in again");
                    self.token.backoff().succeed();
                    self.token.next = Some((Instant::now(), TokenAction::Login));
                } else if !same {
                    tracing::warn!(
                        "the AppRole credential files changed, but {} logins were rejected in the last {}: the next attempt waits its turn so the server's AppRole lockout is not reached",
                        self.login_failures.in_window(),
                        status_line::coarse(self.spec.approle.login_backoff.window)
                    );
                }
            }
        }
    }

    pub(super) async fn reload(&mut self, why: &str) {
        self.notifier.reloading();
        tracing::info!("reloading the spec {} ({why})", self.spec_path.display());
        let bytes = std::fs::read(&self.spec_path).unwrap_or_default();
        let new = match crate::spec::load_spec(&self.spec_path) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("the new spec is invalid, the one in use is kept: {e}");
                self.spec_bytes = bytes;
                self.ready_again();
                return;
            }
        };
        let mut relogin = false;
        if new.vault != self.spec.vault {
            match VaultClient::new(&new.vault) {
                Ok(c) => {
                    self.base = c;
                    relogin = true;
                }
                Err(e) => {
                    tracing::error!(
                        "the new spec's vault section cannot be used, the spec in use is kept: {e}"
                    );
                    self.spec_bytes = bytes;
                    self.ready_again();
                    return;
                }
            }
        }
        if new.approle != self.spec.approle {
            relogin = true;
        }
        let old = std::mem::replace(&mut self.spec, new);
        self.spec_bytes = bytes;
        self.probe.set_cap(shortest_refresh(&self.spec));
        self.login_failures
            .set_policy(self.spec.approle.login_backoff);
        self.templates.reload(&old, &self.spec);
        if old.state_dir != self.spec.state_dir {
            self.book = schedule::RotationBook::load(&self.spec.state_dir);
        }
        if old.critical_services != self.spec.critical_services {
            critical_note(&self.spec);
        }
        if old.audit != self.spec.audit || old.state_dir != self.spec.state_dir {
            if let Some(a) = self.audit.take() {
                tracing::info!("the audit section changed: restarting the audit listener");
                a.stop().await;
            }
            self.audit = AuditTask::spawn(&self.spec);
        }
        let _ = self.insights_spec.send(Arc::new(self.spec.clone()));
        self.metrics.reconfigure(&self.spec.metrics).await;
        match &self.chat {
            Some(c) if Some(&c.spec) == self.spec.chat.as_ref() => c.update(&self.spec),
            _ => {
                if let Some(c) = self.chat.take() {
                    tracing::info!(
                        "the chat section changed: restarting the Slack command endpoint"
                    );
                    c.stop().await;
                }
                self.chat = crate::chat::server::ChatTask::spawn(&self.spec);
            }
        }
        for name in old.secrets.keys() {
            if !self.spec.secrets.contains_key(name) {
                tracing::info!(
                    "secret {name} is no longer in the spec: it is not managed any more (its files at {} are left in place)",
                    old.secrets[name].output_dir.display()
                );
                self.tracked.remove(name);
                crate::metrics::global().forget_secret(name);
                if let Some(w) = self.watcher.as_mut() {
                    w.forget_generation(name);
                }
            }
        }
        let mut changed = 0;
        for (name, s) in &self.spec.secrets {
            if old.secrets.get(name) != Some(s) {
                changed += 1;
                crate::metrics::global().track_secret(name);
                self.tracked.insert(name.clone(), Tracked::new());
            }
        }
        tracing::info!(
            "spec reloaded: {} secret(s), {changed} new or changed",
            self.spec.secrets.len()
        );
        self.watch_config();
        if relogin {
            self.token = TokenState::default();
            self.login().await;
        }
        self.refresh_due().await;
        self.watch_config();
        self.rotation_step();
        self.ready_again();
    }

    pub(super) fn ready_again(&mut self) {
        let line = self.status_line();
        self.notifier.ready(&line);
        self.last_status = line;
    }
}
