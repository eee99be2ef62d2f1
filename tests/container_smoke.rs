//! The systemd container harness works: boot, a Type=notify unit, a restart
//! seen as a new InvocationID, a clean power-off with nothing left behind.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

#[path = "support/container.rs"]
mod container;
#[path = "support/loud.rs"]
mod loud;
mod support;

use container::Container;
use std::io::Write;
use std::time::Duration;

const NOTIFY_DAEMON: &str = r#"#!/usr/bin/python3
import os, socket, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
time.sleep(0.3)
s.sendto(b"READY=1", addr)
while True:
    time.sleep(3600)
"#;

const NOTIFY_UNIT: &str = "[Unit]
Description=smoke: a Type=notify daemon

[Service]
Type=notify
ExecStart=/usr/local/bin/notify-daemon
";

#[test]
fn boots_runs_a_notify_unit_restarts_it_and_powers_off() {
    let Some(rootfs) =
        container::rootfs_or_skip("boots_runs_a_notify_unit_restarts_it_and_powers_off")
    else {
        return;
    };
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("hello"), "from the host\n").unwrap();

    let mut c = Container::boot(&rootfs, host.path());
    let _ = writeln!(
        std::io::stderr(),
        "container booted in {} ms (PID 1 = host pid {})",
        c.boot_time.as_millis(),
        c.pid
    );
    assert_eq!(c.ok(&["cat", "/host/hello"]), "from the host");
    assert_eq!(c.ok(&["cat", "/proc/1/comm"]), "systemd");

    c.write("/usr/local/bin/notify-daemon", NOTIFY_DAEMON, 0o755);
    c.write_unit("smoke-notify.service", NOTIFY_UNIT);
    c.daemon_reload();
    // `start` of a Type=notify unit returns only once READY=1 arrived.
    c.ok(&["systemctl", "start", "smoke-notify.service"]);
    assert_eq!(c.show("smoke-notify.service", "ActiveState"), "active");
    assert_eq!(c.show("smoke-notify.service", "SubState"), "running");
    assert_eq!(c.show("smoke-notify.service", "Type"), "notify");
    let first = c.show("smoke-notify.service", "InvocationID");
    assert_eq!(first.len(), 32, "{first:?}");

    c.ok(&["systemctl", "restart", "smoke-notify.service"]);
    assert_eq!(c.show("smoke-notify.service", "ActiveState"), "active");
    let second = c.show("smoke-notify.service", "InvocationID");
    assert_eq!(second.len(), 32);
    assert_ne!(first, second, "a restart must get a new InvocationID");

    let pid = c.pid;
    assert!(c.shutdown(), "power-off was not clean");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "PID 1 (host pid {pid}) is still there"
    );
    drop(c);
    std::thread::sleep(Duration::from_millis(10));
}
