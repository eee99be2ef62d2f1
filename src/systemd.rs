//! Everything vaultkeeper says to systemd, in one place: `sd_notify` messages
//! (READY, STATUS, RELOADING, STOPPING, WATCHDOG) over the `$NOTIFY_SOCKET`
//! datagram socket, and `systemctl` invocations. Every call logs its failure and
//! returns; none of them can stop the daemon.
//!
//! `sd_notify` is implemented directly (a unix datagram to the path, or to the
//! abstract-namespace name when `$NOTIFY_SOCKET` starts with `@`).

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::process::Stdio;
use std::time::Duration;

/// How long one `systemctl try-restart` may take before it is abandoned.
pub(crate) const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(120);

/// The `$NOTIFY_SOCKET` connection; a no-op when the daemon does not run under
/// systemd (or the variable is invalid).
pub(crate) struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// Reads `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID`.
    pub(crate) fn from_env() -> Notifier {
        Notifier::new(
            std::env::var_os("NOTIFY_SOCKET").map(|s| s.to_string_lossy().into_owned()),
            std::env::var("WATCHDOG_USEC").ok(),
            std::env::var("WATCHDOG_PID").ok(),
        )
    }

    pub(crate) fn new(
        socket: Option<String>,
        wd_usec: Option<String>,
        wd_pid: Option<String>,
    ) -> Notifier {
        let target = socket.and_then(|s| match open(&s) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(
                    "NOTIFY_SOCKET={s} cannot be used ({e}); systemd will not hear from the daemon"
                );
                None
            }
        });
        let pid_ok = wd_pid.is_none_or(|p| p.trim() == std::process::id().to_string());
        let watchdog = wd_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && pid_ok)
            .map(Duration::from_micros);
        Notifier { target, watchdog }
    }

    /// True when a notify socket is configured.
    #[cfg(test)]
    pub(crate) fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// `WatchdogSec=` as systemd passed it, when the watchdog is on for us.
    #[cfg(test)]
    pub(crate) fn watchdog_timeout(&self) -> Option<Duration> {
        self.watchdog
    }

    /// How often to send WATCHDOG=1: half the timeout, as sd_watchdog_enabled(3) advises.
    pub(crate) fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|d| d / 2)
    }

    /// Sends one notify message (several `KEY=VALUE` lines); logs failures.
    pub(crate) fn send(&self, message: &str) {
        let Some((sock, addr)) = &self.target else {
            return;
        };
        if let Err(e) = sock.send_to_addr(message.as_bytes(), addr) {
            let first = message.lines().next().unwrap_or_default();
            tracing::warn!("cannot notify systemd ({first}): {e}");
        }
    }

    pub(crate) fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    pub(crate) fn status(&self, status: &str) {
        self.send(&format!("STATUS={status}"));
    }

    /// RELOADING=1 with MONOTONIC_USEC, as `Type=notify-reload` (systemd 253+) wants.
    pub(crate) fn reloading(&self) {
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading the spec",
            monotonic_usec()
        ));
    }

    pub(crate) fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=stopping");
    }

    pub(crate) fn watchdog(&self) {
        if self.watchdog.is_some() {
            self.send("WATCHDOG=1");
        }
    }
}

fn open(spec: &str) -> std::io::Result<(UnixDatagram, SocketAddr)> {
    let addr = match spec.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
        None if spec.starts_with('/') => SocketAddr::from_pathname(spec)?,
        None => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "neither an absolute path nor an @abstract name",
            ))
        }
    };
    Ok((UnixDatagram::unbound()?, addr))
}

/// CLOCK_MONOTONIC in microseconds (what systemd compares MONOTONIC_USEC with).
pub fn monotonic_usec() -> u64 {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => ts.tv_sec() as u64 * 1_000_000 + ts.tv_nsec() as u64 / 1_000,
        Err(_) => 0,
    }
}

/// What a unit change asks of systemd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitAction {
    /// `systemctl try-restart`: restarts a running unit, leaves a stopped one alone.
    TryRestart,
    /// `systemctl try-reload-or-restart`.
    TryReloadOrRestart,
}

impl UnitAction {
    pub(crate) fn verb(self) -> &'static str {
        match self {
            UnitAction::TryRestart => "try-restart",
            UnitAction::TryReloadOrRestart => "try-reload-or-restart",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SystemctlError {
    #[error("cannot run systemctl: {0}")]
    Spawn(std::io::Error),
    #[error("`systemctl {verb} {unit}` did not finish within {secs}s and was abandoned")]
    Timeout {
        verb: &'static str,
        unit: String,
        secs: u64,
    },
    #[error("`systemctl {verb} {unit}` failed ({status}): {stderr}")]
    Failed {
        verb: &'static str,
        unit: String,
        status: String,
        stderr: String,
    },
}

/// Runs `systemctl VERB UNIT` with an empty environment (no secret can reach
/// it: unit names only in argv) and a timeout.
pub(crate) async fn unit_action(
    action: UnitAction,
    unit: &str,
    timeout: Duration,
) -> Result<(), SystemctlError> {
    let verb = action.verb();
    let child = tokio::process::Command::new(systemctl_bin())
        .arg(verb)
        .arg("--")
        .arg(unit)
        .env_clear()
        .env("PATH", "/run/current-system/sw/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(SystemctlError::Spawn)?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(SystemctlError::Timeout {
            verb,
            unit: unit.to_string(),
            secs: timeout.as_secs(),
        }),
        Ok(Err(e)) => Err(SystemctlError::Spawn(e)),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(SystemctlError::Failed {
            verb,
            unit: unit.to_string(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

/// `systemctl` from PATH, or `$VAULTKEEPER_SYSTEMCTL` (tests, unusual systems).
fn systemctl_bin() -> std::path::PathBuf {
    std::env::var_os("VAULTKEEPER_SYSTEMCTL")
        .map(Into::into)
        .unwrap_or_else(|| {
            [
                "/run/current-system/sw/bin/systemctl",
                "/usr/bin/systemctl",
                "/bin/systemctl",
            ]
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| "systemctl".into())
        })
}

#[cfg(test)]
mod tests;
