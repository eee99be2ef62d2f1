//! A long-running `vaultkeeper` (`run`, `chat serve`) as a child process for
//! tests: its log in a file, killed (SIGKILL) and its log kept and checked for
//! secrets when dropped.

use super::run::{assert_no_secret_in, bin, keep_log};
use super::wait::wait_for_or;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
    /// What it is, for its kept log (`daemon`, `chat`).
    label: &'static str,
}

impl Daemon {
    /// Starts `vaultkeeper --spec SPEC run` with a clean Vault environment plus `env`.
    pub fn start(spec: &Path, env: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(spec, &["run"], "daemon", env)
    }

    /// [`Daemon::start`] with `$NOTIFY_SOCKET` at `notify` (see [`super::notify`]).
    pub fn start_with_notify(spec: &Path, notify: &Path, env: &[(&str, &str)]) -> Daemon {
        let notify = notify.to_str().expect("a UTF-8 socket path");
        let mut env = env.to_vec();
        env.insert(0, ("NOTIFY_SOCKET", notify));
        Daemon::start(spec, &env)
    }

    /// Starts `vaultkeeper --spec SPEC SUB...` with a debug log in
    /// `<label>-<random>.log` beside the spec, a clean Vault and systemd
    /// environment plus `env`.
    pub fn spawn(spec: &Path, sub: &[&str], label: &'static str, env: &[(&str, &str)]) -> Daemon {
        let log = spec.with_file_name(format!("{label}-{}.log", super::bao::rand_suffix()));
        let f = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(bin());
        cmd.args(["--spec", spec.to_str().unwrap()])
            .args(sub)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f);
        super::run::debug_without_ambient_env(&mut cmd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon {
            child: Some(cmd.spawn().expect("cannot start vaultkeeper")),
            log,
            label,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends signal `sig` (a name such as `HUP`, `TERM`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} {} failed", self.pid());
    }

    /// Waits for the process to exit; its exit code (-1 for a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> i32 {
        self.wait_status(timeout).code().unwrap_or(-1)
    }

    /// Waits for the process to exit; its status.
    fn wait_status(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("the process was already reaped");
        let log = &self.log;
        let label = self.label;
        let status = wait_for_or(
            timeout,
            || child.try_wait().unwrap(),
            || {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                format!("the {label} did not exit within {timeout:?}:\n{text}")
            },
        );
        self.child = None;
        status
    }

    /// SIGTERM, as systemd stops it; its exit status, which must come within 20 s.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_status(Duration::from_secs(20))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle` (counting from byte `from`).
    pub fn wait_log_from(&self, from: usize, needle: &str, timeout: Duration) {
        let logged = || {
            self.log_text()
                .get(from..)
                .is_some_and(|t| t.contains(needle))
        };
        wait_for_or(
            timeout,
            || logged().then_some(()),
            || self.timed_out(&format!("{needle:?}"), timeout),
        );
    }

    /// Waits until `needle` was logged `n` times.
    pub fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) {
        let logged = || self.log_text().matches(needle).count() >= n;
        wait_for_or(
            timeout,
            || logged().then_some(()),
            || self.timed_out(&format!("{needle:?} {n} times"), timeout),
        );
    }

    fn timed_out(&self, what: &str, timeout: Duration) -> String {
        format!(
            "the {} did not log {what} within {timeout:?}:\n{}",
            self.label,
            self.log_text()
        )
    }

    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        self.wait_log_from(0, needle, timeout)
    }

    /// SIGTERM, then waits for the exit (the daemon's clean shutdown).
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while c.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let text = self.log_text();
        keep_log(self.label, &text);
        if !std::thread::panicking() {
            assert_no_secret_in(&text, &format!("the {} log", self.label));
        }
    }
}
