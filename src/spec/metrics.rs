//! The `metrics` section of the spec: where the daemon publishes its Prometheus
//! metrics (see [`crate::metrics`] and `docs/reference/metrics.md`).
//!
//! ```json
//! "metrics": {
//!   "textfile": "/var/lib/prometheus-node-exporter-text-files/vaultkeeper.prom",
//!   "listen": "127.0.0.1:9469"
//! }
//! ```

use super::Problem;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

/// The `metrics` section exactly as JSON writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawMetrics {
    /// A `.prom` file for node-exporter's textfile collector.
    pub textfile: Option<String>,
    /// A loopback `address:port` serving `GET /metrics`.
    pub listen: Option<String>,
}

/// The resolved `metrics` section; both `None` = no metrics published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MetricsSpec {
    pub textfile: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

pub(crate) fn resolve(raw: Option<RawMetrics>, problems: &mut Vec<Problem>) -> MetricsSpec {
    let Some(raw) = raw else {
        return MetricsSpec::default();
    };
    let textfile = raw
        .textfile
        .filter(|s| !s.is_empty())
        .and_then(|t| match check_textfile(&t) {
            Ok(p) => Some(p),
            Err(m) => {
                problems.push(Problem::new("metrics.textfile", m));
                None
            }
        });
    let listen = raw
        .listen
        .filter(|s| !s.is_empty())
        .and_then(|l| match check_listen(&l) {
            Ok(a) => Some(a),
            Err(m) => {
                problems.push(Problem::new("metrics.listen", m));
                None
            }
        });
    MetricsSpec { textfile, listen }
}

fn check_textfile(t: &str) -> Result<PathBuf, String> {
    let p = Path::new(t);
    if !p.is_absolute() {
        return Err(format!("{t:?} is not an absolute path; write e.g. \"/var/lib/prometheus-node-exporter-text-files/vaultkeeper.prom\""));
    }
    if p.components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        || t.contains("//")
    {
        return Err(format!(
            "{t:?} must be a plain absolute path, without \".\" or \"..\""
        ));
    }
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.ends_with(".prom") || name == ".prom" || name.starts_with('.') {
        return Err(format!(
            "{t:?}: node-exporter's textfile collector reads only files named *.prom (not hidden); write e.g. \".../vaultkeeper.prom\""
        ));
    }
    Ok(p.to_path_buf())
}

fn check_listen(l: &str) -> Result<SocketAddr, String> {
    let a: SocketAddr = l.parse().map_err(|_| {
        format!("{l:?} is not an address:port; write e.g. \"127.0.0.1:9469\" or \"[::1]:9469\"")
    })?;
    if !a.ip().is_loopback() {
        return Err(format!(
            "{l:?} is not a loopback address: the endpoint has no authentication, so it listens on 127.0.0.1 or ::1 only (let node-exporter's textfile collector or a local proxy publish it further)"
        ));
    }
    if a.port() == 0 {
        return Err(format!("{l:?}: choose a fixed port, e.g. 9469"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(textfile: Option<&str>, listen: Option<&str>) -> (MetricsSpec, Vec<Problem>) {
        let mut p = Vec::new();
        let m = resolve(
            Some(RawMetrics {
                textfile: textfile.map(str::to_string),
                listen: listen.map(str::to_string),
            }),
            &mut p,
        );
        (m, p)
    }

    #[test]
    fn good_values_resolve() {
        let (m, p) = run(Some("/var/lib/x/vaultkeeper.prom"), Some("127.0.0.1:9469"));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            m.textfile.unwrap(),
            Path::new("/var/lib/x/vaultkeeper.prom")
        );
        assert_eq!(m.listen.unwrap().port(), 9469);
        let (m, p) = run(None, Some("[::1]:9000"));
        assert!(p.is_empty());
        assert!(m.listen.unwrap().ip().is_loopback());
        assert_eq!(resolve(None, &mut Vec::new()), MetricsSpec::default());
    }

    #[test]
    fn hostile_values_are_refused_with_the_path() {
        for bad in [
            "relative.prom",
            "/var/lib/x/vaultkeeper.txt",
            "/var/lib/x/../../etc/x.prom",
            "/var/lib/x/.hidden.prom",
            "/var/lib/x/.prom",
        ] {
            let (m, p) = run(Some(bad), None);
            assert!(m.textfile.is_none(), "{bad}");
            assert_eq!(p.len(), 1, "{bad}");
            assert_eq!(p[0].path, "metrics.textfile");
        }
        for bad in [
            "0.0.0.0:9469",
            "10.0.0.1:9469",
            "127.0.0.1:0",
            "localhost:9469",
            "9469",
        ] {
            let (m, p) = run(None, Some(bad));
            assert!(m.listen.is_none(), "{bad}");
            assert_eq!(p.len(), 1, "{bad}");
            assert_eq!(p[0].path, "metrics.listen");
        }
    }
}
