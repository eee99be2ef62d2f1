//! The daemon's side of [`crate::metrics`]: the `metrics.textfile` written on
//! every pass of the loop (at most once a second), the `metrics.listen`
//! endpoint's task, and the values only the loop knows (token expiry, the audit
//! listener's counters), handed over before each write.

use crate::metrics::{self, AuditTotals, TokenExpiry};
use crate::spec::metrics::MetricsSpec;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

/// The textfile is rewritten at most this often.
const MIN_WRITE_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct Publisher {
    spec: MetricsSpec,
    /// The endpoint; dropping the guard stops it.
    server: Option<(DropGuard, JoinHandle<()>)>,
    last_write: Option<Instant>,
    /// The last textfile error, logged once until it changes or clears.
    last_error: Option<String>,
}

impl Publisher {
    pub(crate) async fn start(spec: &MetricsSpec) -> Publisher {
        let mut p = Publisher {
            spec: MetricsSpec::default(),
            server: None,
            last_write: None,
            last_error: None,
        };
        p.reconfigure(spec).await;
        p
    }

    /// Applies a (re)loaded `metrics` section: the endpoint moves when `listen` changed.
    pub(crate) async fn reconfigure(&mut self, spec: &MetricsSpec) {
        if spec.listen != self.spec.listen || self.server.is_none() && spec.listen.is_some() {
            self.stop_server().await;
            if let Some(addr) = spec.listen {
                match metrics::http::bind(addr).await {
                    Ok(l) => {
                        tracing::info!("metrics: serving http://{addr}/metrics");
                        let stop = CancellationToken::new();
                        let server = tokio::spawn(metrics::http::serve(l, stop.clone()));
                        self.server = Some((stop.drop_guard(), server));
                    }
                    // Metrics never stop the agent: the secrets matter more.
                    Err(e) => tracing::error!("{e}; metrics are not served over HTTP"),
                }
            }
        }
        if spec.textfile != self.spec.textfile {
            self.last_write = None;
            self.last_error = None;
        }
        self.spec = spec.clone();
    }

    /// Hands over the loop's values and rewrites the textfile when due.
    pub(crate) fn publish(&mut self, token: TokenExpiry, audit: Option<AuditTotals>) {
        let m = metrics::global();
        m.set_token(token);
        if let Some(a) = audit {
            m.audit_totals(a);
        }
        let Some(path) = &self.spec.textfile else {
            return;
        };
        if self
            .last_write
            .is_some_and(|t| t.elapsed() < MIN_WRITE_INTERVAL)
        {
            return;
        }
        self.last_write = Some(Instant::now());
        let text = m.encode(crate::clock::now_unix());
        match metrics::textfile::write(path, &text) {
            Ok(()) => {
                if self.last_error.take().is_some() {
                    tracing::info!("metrics: {} is written again", path.display());
                }
            }
            Err(e) => {
                let msg = e.to_string();
                if self.last_error.as_deref() != Some(msg.as_str()) {
                    tracing::error!("{msg}");
                    self.last_error = Some(msg);
                }
            }
        }
    }

    async fn stop_server(&mut self) {
        if let Some((stop, join)) = self.server.take() {
            drop(stop);
            let _ = tokio::time::timeout(Duration::from_secs(2), join).await;
        }
    }

    /// Final textfile write, then the endpoint stops.
    pub(crate) async fn stop(&mut self, token: TokenExpiry, audit: Option<AuditTotals>) {
        self.last_write = None;
        self.publish(token, audit);
        self.stop_server().await;
    }
}

/// The audit listener's snapshot as metric totals.
pub(crate) fn audit_totals(s: &crate::audit::StatsSnapshot) -> AuditTotals {
    let d = &s.dropped;
    AuditTotals {
        lines_read: s.lines_read,
        entries: s.entries,
        open_connections: s.open_connections,
        dropped: [
            ("too_long", d.too_long),
            ("invalid_utf8", d.invalid_utf8),
            ("partial", d.partial),
            ("empty", d.empty),
            ("not_json", d.not_json),
            ("duplicate", d.duplicate),
            ("overload", d.overload),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        alerts: s.alerts.clone(),
    }
}
