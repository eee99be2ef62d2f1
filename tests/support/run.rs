//! Running the `vaultkeeper` binary in tests. Every output is kept under
//! `target/test-logs/` and checked against every secret value the suite made:
//! a secret in any log fails the test that produced it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Every test secret value starts with this, so a final sweep over all logs can
/// find any of them (see scripts/test.sh).
pub const SECRET_MARKER: &str = "vksecret";

/// A fresh secret value, registered for the leak checks.
pub fn secret(label: &str) -> String {
    let v = format!("{SECRET_MARKER}-{label}-{}", super::bao::rand_suffix());
    register_secret(&v);
    v
}

/// Registers a value made elsewhere (a secret-id, a wrapped token).
pub fn register_secret(v: &str) {
    SECRETS.lock().unwrap().push(v.to_string());
}

pub fn assert_no_secret_in(text: &str, what: &str) {
    for s in SECRETS.lock().unwrap().iter() {
        assert!(
            !text.contains(s.as_str()),
            "a secret value leaked into {what}:\n{text}"
        );
    }
    assert!(
        !text.contains(SECRET_MARKER),
        "a test secret leaked into {what}:\n{text}"
    );
}

pub fn logs_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn keep_log(label: &str, text: &str) {
    let name = std::thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-");
    let file = logs_dir().join(format!("{name}.{label}.log"));
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    let _ = f.write_all(text.as_bytes());
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vaultkeeper")
}

/// The outcome of one run: exit code and both streams.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `vaultkeeper ARGS` with a clean Vault environment plus `env`.
pub fn vaultkeeper(args: &[&str], env: &[(&str, &str)]) -> Run {
    vaultkeeper_prefixed(&[], args, env)
}

/// Runs `PREFIX... vaultkeeper ARGS` (e.g. `prlimit --as=N --`) like [`vaultkeeper`].
pub fn vaultkeeper_prefixed(prefix: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = match prefix.split_first() {
        None => Command::new(bin()),
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin());
            c
        }
    };
    cmd.args(args).stdin(Stdio::null());
    debug_without_ambient_env(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(&mut cmd, &format!("vaultkeeper {}", args.join(" ")))
}

/// What a test's vaultkeeper must not inherit: the Vault/OpenBao CLI's
/// variables, systemd's notify and watchdog ones, the log level. Only what the
/// test passes counts.
pub const AMBIENT_ENV: &[&str] = &[
    "VAULT_ADDR",
    "BAO_ADDR",
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "VAULT_NAMESPACE",
    "BAO_NAMESPACE",
    "VAULT_WRAPPED_TOKEN",
    "VAULT_SKIP_VERIFY",
    "BAO_SKIP_VERIFY",
    "VAULT_CACERT",
    "BAO_CACERT",
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "VAULTKEEPER_LOG",
];

/// Removes [`AMBIENT_ENV`] from `cmd`'s environment and sets a debug log.
pub fn debug_without_ambient_env(cmd: &mut Command) {
    for k in AMBIENT_ENV {
        cmd.env_remove(k);
    }
    cmd.env("VAULTKEEPER_LOG", "debug");
}

/// Runs `vaultkeeper ARGS` in `dir` as a user's shell would, the way the
/// documentation shows it: an empty environment but `PATH` and `env` (so no
/// debug log).
pub fn vaultkeeper_bare(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .current_dir(dir)
        .stdin(Stdio::null())
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(&mut cmd, &args.join(" "))
}

/// Runs `cmd` to its end: the [`Run`], its stderr kept as a test log (after
/// `$ COMMAND_LINE`) and checked for secrets.
fn output(cmd: &mut Command, command_line: &str) -> Run {
    let out: Output = cmd.output().expect("cannot run vaultkeeper");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    keep_log("vaultkeeper", &format!("$ {command_line}\n{}", run.stderr));
    assert_no_secret_in(&run.stderr, "vaultkeeper's log (stderr)");
    run
}
