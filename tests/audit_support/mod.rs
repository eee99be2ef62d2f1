//! Test doubles for the audit tests: a running `vaultkeeper audit listen`
//! process and helpers reading alert payloads. The Slack stand-in lives in
//! `support::slack`.
#![allow(dead_code)]

use crate::support;
pub use crate::support::slack::{Mode, Slack};
use serde_json::Value;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod latency;
pub mod peers;

/// A running `vaultkeeper audit listen`.
pub struct Agent {
    child: Option<Child>,
    pub spec: PathBuf,
    pub state_dir: PathBuf,
    pub log: PathBuf,
    /// `VAULTKEEPER_LOG` (`debug` unless started with [`Agent::start_logging`]).
    level: &'static str,
    /// A command the agent runs under (`taskset -c 0`, `prlimit ...`).
    wrapper: Vec<String>,
}

impl Agent {
    /// Writes the spec (audit section + stateDir) and starts the listener; returns when it is up.
    pub fn start(dir: &Path, audit: &Value) -> Agent {
        Agent::start_logging(dir, audit, "debug")
    }

    /// As [`Agent::start`], logging at `level`.
    pub fn start_logging(dir: &Path, audit: &Value, level: &'static str) -> Agent {
        Agent::start_wrapped(dir, audit, level, &[])
    }

    /// As [`Agent::start_logging`], run under `wrapper` (e.g. `["taskset", "-c", "0"]`).
    pub fn start_wrapped(
        dir: &Path,
        audit: &Value,
        level: &'static str,
        wrapper: &[&str],
    ) -> Agent {
        let state_dir = dir.join("state");
        let spec = dir.join("spec.json");
        let full = serde_json::json!({
            "vault": { "address": "http://127.0.0.1:1" },
            "stateDir": state_dir,
            "audit": audit,
        });
        std::fs::write(&spec, serde_json::to_string_pretty(&full).unwrap()).unwrap();
        let mut a = Agent {
            child: None,
            spec,
            state_dir,
            log: dir.join("agent.log"),
            level,
            wrapper: wrapper.iter().map(|s| s.to_string()).collect(),
        };
        a.restart();
        a
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        let stats = self.state_dir.join("audit/stats.json");
        let _ = std::fs::remove_file(&stats);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = match self.wrapper.split_first() {
            None => Command::new(support::run::bin()),
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(support::run::bin());
                c
            }
        };
        let child = cmd
            .args(["--spec", self.spec.to_str().unwrap(), "audit", "listen"])
            .env("VAULTKEEPER_LOG", self.level)
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !stats.exists() {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("agent exited with {st}: {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "agent not up: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn stop(&mut self) -> i32 {
        let mut c = self.child.take().expect("running");
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("agent did not stop on SIGTERM: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL and wait (no drain, no clean-up).
    pub fn kill9(&mut self) {
        let mut c = self.child.take().expect("running");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// Names in `<stateDir>/audit/unconfirmed` (messages maybe in Slack, not sent again).
    pub fn unconfirmed(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.state_dir.join("audit/unconfirmed"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// (VmRSS, VmHWM, RssAnon, RssFile) of the agent in bytes.
    pub fn memory(&self) -> (u64, u64, u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb = |k: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {k} in /proc/PID/status"))
                * 1024
        };
        (kb("VmRSS:"), kb("VmHWM:"), kb("RssAnon:"), kb("RssFile:"))
    }

    /// (VmRSS, VmHWM) of the agent in bytes.
    pub fn rss(&self) -> (u64, u64) {
        let (rss, hwm, _, _) = self.memory();
        (rss, hwm)
    }

    pub fn stats(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.state_dir.join("audit/stats.json")).unwrap())
            .unwrap()
    }

    pub fn outbox(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.state_dir.join("audit/outbox"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let log = self.log_text();
        support::run::keep_log("agent", &log);
        support::run::assert_no_secret_in(&log, "the audit agent's log");
    }
}

/// The alert rule named in a payload's context line.
pub fn rule_of(p: &Value) -> String {
    let ctx = p["blocks"][3]["elements"][0]["text"].as_str().unwrap();
    ctx.split("rule `")
        .nth(1)
        .unwrap()
        .split('`')
        .next()
        .unwrap()
        .to_string()
}

/// The "Count" field of a payload: (count, coalesced?).
pub fn count_of(p: &Value) -> (u64, bool) {
    let f = p["blocks"][2]["fields"].as_array().unwrap();
    let c = f
        .iter()
        .find(|f| f["text"].as_str().unwrap().starts_with("*Count*"))
        .unwrap();
    let t = c["text"].as_str().unwrap().trim_start_matches("*Count*\n");
    let n: u64 = t.split_whitespace().next().unwrap().parse().unwrap();
    (n, t.contains("coalesced"))
}

pub fn request_id_of(p: &Value) -> String {
    let f = p["blocks"][2]["fields"].as_array().unwrap();
    let c = f
        .iter()
        .find(|f| f["text"].as_str().unwrap().starts_with("*Request id*"))
        .unwrap();
    c["text"]
        .as_str()
        .unwrap()
        .trim_start_matches("*Request id*\n")
        .trim_matches('`')
        .to_string()
}

/// Sends raw bytes on one TCP connection to the agent, then waits until the
/// agent closed it (so the socket is alive while the agent checks its owner:
/// a socket already closed proves no owner and is refused).
pub fn send(port: u16, bytes: &[u8]) {
    use std::io::Read;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(bytes).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut sink = [0u8; 64];
    while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
}
