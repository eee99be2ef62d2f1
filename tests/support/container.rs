//! A real systemd (Debian 252) as PID 1 of fresh PID/mount/UTS/IPC namespaces,
//! chrooted into the root file system that scripts/container-rootfs.sh builds.
//! It shares the host's network (loopback servers are reachable both ways).
//!
//! Each container's writable layer (its "disk") is an overlay upper directory,
//! so the shared root file system stays pristine; boot a second time on the
//! same [`Disk`] to see a reboot. `/run` and `/tmp` are fresh tmpfs on each
//! boot, the host directory is mounted at `/host`. Drop powers the container
//! off, then kills PID 1 if it has not exited: no process is left behind.
//!
//! Needs root. When the root file system is missing and cannot be built, a test
//! fails, unless `VAULTKEEPER_SKIP_CONTAINER=1` (then it prints a loud SKIPPED).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The root file system, built on first use.
pub fn rootfs_or_skip(test: &str) -> Option<PathBuf> {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_builder = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rootfs = std::env::var_os("VAULTKEEPER_CONTAINER_ROOTFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/container-rootfs"));
    if rootfs.join(".vaultkeeper-rootfs-ok").exists() {
        return Some(rootfs);
    }
    let built = Command::new(repo.join("scripts/container-rootfs.sh"))
        .arg(&rootfs)
        .status();
    let why = match built {
        Ok(s) if s.success() => return Some(rootfs),
        Ok(s) => format!(
            "scripts/container-rootfs.sh {} failed ({s})",
            rootfs.display()
        ),
        Err(e) => format!("cannot run scripts/container-rootfs.sh: {e}"),
    };
    if std::env::var("VAULTKEEPER_SKIP_CONTAINER").as_deref() == Ok("1") {
        crate::loud::skipped(test, &format!("no systemd container: {why}"));
        return None;
    }
    panic!("{test}: no systemd container: {why} (set VAULTKEEPER_SKIP_CONTAINER=1 to skip)");
}

/// A container's persistent writable layer.
pub struct Disk {
    dir: tempfile::TempDir,
}

impl Disk {
    pub fn new() -> Disk {
        let dir = tempfile::Builder::new()
            .prefix("vk-container-disk")
            .tempdir()
            .expect("create the container disk");
        for d in ["upper", "work", "merged"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        Disk { dir }
    }
}

pub struct Container {
    /// `unshare --fork`, the parent of PID 1 on the host.
    unshare: Child,
    /// PID 1's pid on the host.
    pub pid: u32,
    /// From spawning to `is-system-running` = running/degraded.
    pub boot_time: Duration,
    pub log: PathBuf,
    _disk: Option<Disk>,
}

impl Container {
    /// Boots on a fresh disk, with `hostdir` at `/host`.
    pub fn boot(rootfs: &Path, hostdir: &Path) -> Container {
        let disk = Disk::new();
        let mut c = Container::boot_on(rootfs, &disk, hostdir);
        // Removed only after the container is gone (fields drop after `drop`).
        c._disk = Some(disk);
        c
    }

    /// Boots on `disk` (what earlier boots on it wrote is there).
    pub fn boot_on(rootfs: &Path, disk: &Disk, hostdir: &Path) -> Container {
        let d = disk.dir.path();
        let merged = d.join("merged");
        let log = d.join(format!("boot-{}.log", std::process::id()));
        let script = format!(
            r#"set -e
            mount --make-rprivate /
            mount -t overlay overlay -o lowerdir={rootfs},upperdir={upper},workdir={work} {m}
            mount --bind {host} {m}/host
            mount -t proc proc {m}/proc
            mount --rbind /sys {m}/sys
            mount --rbind /dev {m}/dev
            mount -t tmpfs -o mode=0755 tmpfs {m}/run
            mount -t tmpfs -o mode=1777 tmpfs {m}/tmp
            # Shared propagation inside this namespace only (the host's copies
            # are private since the first line), as systemd makes / on a host:
            # a unit's credentials (LoadCredential=) are mounted in a child
            # namespace and reach the unit's view only through propagation.
            mount --make-rshared {m}
            cd {m}
            exec chroot . /usr/bin/env container=other /lib/systemd/systemd --system --unit=multi-user.target"#,
            rootfs = rootfs.display(),
            upper = d.join("upper").display(),
            work = d.join("work").display(),
            m = merged.display(),
            host = hostdir.display(),
        );
        let start = Instant::now();
        let unshare = Command::new("setsid")
            .args(["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc"])
            .args(["bash", "-c", &script])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn setsid unshare");
        let mut c = Container {
            pid: 0,
            unshare,
            boot_time: Duration::ZERO,
            log,
            _disk: None,
        };
        c.pid = c.wait_for_pid1(start);
        c.wait_until_booted(start);
        c.boot_time = start.elapsed();
        c
    }

    fn boot_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_pid1(&mut self, start: Instant) -> u32 {
        let parent = self.unshare.id();
        while start.elapsed() < Duration::from_secs(20) {
            if let Some(status) = self.unshare.try_wait().unwrap() {
                panic!(
                    "container exited during boot ({status}):\n{}",
                    self.boot_log()
                );
            }
            let children =
                std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
                    .unwrap_or_default();
            if let Some(pid) = children
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
            {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                if exe.ends_with("systemd") {
                    return pid;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no systemd in the container after 20 s:\n{}",
            self.boot_log()
        );
    }

    fn wait_until_booted(&self, start: Instant) {
        let mut state = String::new();
        while start.elapsed() < Duration::from_secs(60) {
            state = self.stdout(&["systemctl", "is-system-running"]);
            if state == "running" || state == "degraded" {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "container not booted after 60 s (is-system-running: {state}):\n{}",
            self.stdout(&["systemctl", "--failed", "--no-pager"])
        );
    }

    /// Runs a command inside (all of PID 1's namespaces, its root and cwd).
    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .arg("-t")
            .arg(self.pid.to_string())
            .args(["-a", "-r", "-w"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run nsenter")
    }

    /// Like [`exec`](Self::exec), panicking unless it succeeds; trimmed stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.exec(args);
        assert!(
            out.status.success(),
            "{args:?} failed in the container ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Trimmed stdout, whatever the exit status.
    pub fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.exec(args).stdout)
            .trim()
            .to_string()
    }

    /// A path inside the container, as the host reaches it (via PID 1's root).
    pub fn path(&self, inside: &str) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/root/{}",
            self.pid,
            inside.trim_start_matches('/')
        ))
    }

    /// Writes a file inside the container (parents created).
    pub fn write(&self, inside: &str, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path(inside);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Puts a unit file in /etc/systemd/system (call [`daemon_reload`](Self::daemon_reload) after).
    pub fn write_unit(&self, name: &str, text: &str) {
        self.write(&format!("/etc/systemd/system/{name}"), text, 0o644);
    }

    pub fn daemon_reload(&self) {
        self.ok(&["systemctl", "daemon-reload"]);
    }

    /// `systemctl show UNIT -p PROP --value`.
    pub fn show(&self, unit: &str, prop: &str) -> String {
        self.ok(&["systemctl", "show", unit, "-p", prop, "--value"])
    }

    /// Polls `f` until it is true; panics after `timeout` (see [`crate::support::wait`]).
    pub fn wait_for(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Self) -> bool) {
        crate::support::wait::wait_until(what, timeout, || f(self));
    }

    /// Powers off and waits for PID 1 to exit (killing it after 20 s).
    /// Returns true when the power-off was clean.
    pub fn shutdown(&mut self) -> bool {
        if self.unshare.try_wait().unwrap().is_some() {
            return true;
        }
        let _ = self.exec(&["systemctl", "poweroff", "--no-block"]);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.unshare.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SIGKILL of PID 1 ends the whole PID namespace and its mounts.
        let _ = Command::new("kill")
            .args(["-9", &self.pid.to_string()])
            .status();
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
        false
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.shutdown();
    }
}
