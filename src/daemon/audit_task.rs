//! The audit listener (socket audit device → rules → Slack) as the daemon's
//! task: started with the spec's `audit` section, restarted when it changes,
//! stopped with a [`CancellationToken`] after its final drain.

use crate::spec::Spec;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The audit listener (socket audit device → rules → Slack), running while the
/// spec has an `audit` section; a reload with another section restarts it.
pub(super) struct AuditTask {
    pub(super) spec: crate::audit::AuditSpec,
    /// The listener's live counters, for the metrics.
    pub(super) stats: crate::audit::StatsHandle,
    pub(super) stop: CancellationToken,
    pub(super) join: tokio::task::JoinHandle<()>,
}

impl AuditTask {
    pub(super) fn spawn(spec: &Spec) -> Option<AuditTask> {
        let audit = spec.audit.clone()?;
        let state_dir = spec.state_dir.clone();
        let stop = CancellationToken::new();
        let shutdown = stop.clone().cancelled_owned();
        let run = audit.clone();
        crate::metrics::global().audit_listener_started();
        let stats = crate::audit::StatsHandle::default();
        let live = stats.clone();
        let join = tokio::spawn(async move {
            if let Err(e) = crate::audit::serve_with_stats(&run, &state_dir, shutdown, live).await {
                tracing::error!("the audit listener stopped: {e}");
            }
        });
        Some(AuditTask {
            spec: audit,
            stats,
            stop,
            join,
        })
    }

    /// Stops the listener after its final drain (bounded by the Slack timeout).
    pub(super) async fn stop(self) {
        self.stop.cancel();
        let grace = self
            .spec
            .slack
            .as_ref()
            .map_or(Duration::ZERO, |s| s.timeout)
            + Duration::from_secs(5);
        let mut join = self.join;
        if tokio::time::timeout(grace, &mut join).await.is_err() {
            join.abort();
        }
    }
}
