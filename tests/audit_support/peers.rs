//! Hostile peers of the audit listener, in their own process (Python), so
//! they can run as another user and be pinned to a core like the agent:
//! - `flood`: CONNS connections writing junk audit lines as fast as the agent
//!   reads them (one line in ten looks security-relevant: a `sys/` path);
//! - `idle`: N connections that send nothing;
//! - `partial`: N connections each sending BYTES without a newline.
//!
//! Each holds its connections for SECS seconds, then prints a JSON report.

use serde_json::Value;
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = r#"
import json, os, socket, sys, time
import encodings.idna  # before dropping privileges: the interpreter may live in root's home
mode, port, uid, n, secs, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
if uid >= 0:
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
report = {"connected": 0, "refused": 0, "sent": 0, "errors": 0}
socks = []
def connect():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        report["connected"] += 1
        return s
    except OSError:
        report["refused"] += 1
        return None
end = time.time() + secs
if mode == "flood":
    lines = []
    for i in range(100000):
        path = ("sys/junk/%d" % i) if i % 10 == 0 else ("secret/data/junk/%d" % i)
        lines.append('{"time":"2026-11-30T00:00:00Z","type":"request","auth":{"display_name":"junk","policies":["default"]},"request":{"id":"junk-%d","operation":"read","path":"%s","remote_address":"127.0.0.1"}}\n' % (i, path))
    buf = "".join(lines).encode()
    view = memoryview(buf)
    socks = [s for s in (connect() for _ in range(n)) if s]
    for s in socks: s.settimeout(1)
    while time.time() < end and socks:
        for s in list(socks):
            try:
                for off in range(0, len(buf), 262144):
                    s.sendall(view[off:off + 262144]); report["sent"] += min(262144, len(buf) - off)
            except socket.timeout:
                pass
            except OSError:
                report["errors"] += 1; socks.remove(s)
                s2 = connect()
                if s2: s2.settimeout(1); socks.append(s2)
else:
    chunk = b"x" * 65536
    for _ in range(n):
        s = connect()
        if not s: continue
        socks.append(s)
        if mode == "partial":
            left = nbytes
            try:
                while left > 0:
                    k = min(left, len(chunk)); s.sendall(chunk[:k]); left -= k; report["sent"] += k
            except OSError:
                report["errors"] += 1
    while time.time() < end:
        time.sleep(0.1)
    # Which connections did the agent close meanwhile?
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"": closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    report["closed_by_agent"] = closed
for s in socks:
    try: s.close()
    except OSError: pass
print(json.dumps(report), flush=True)
"#;

pub struct Peers {
    child: Option<Child>,
}

impl Peers {
    /// `uid`: run as this user (None: as the test, root). `wrapper`: e.g. `["taskset", "-c", "0"]`.
    #[allow(clippy::too_many_arguments)]
    pub fn spawn(
        mode: &str,
        port: u16,
        uid: Option<u32>,
        n: usize,
        secs: f64,
        bytes: usize,
        wrapper: &[&str],
    ) -> Peers {
        let mut cmd = match wrapper.split_first() {
            None => Command::new("python3"),
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg("python3");
                c
            }
        };
        let child = cmd
            .args(["-c", SCRIPT, mode, &port.to_string()])
            .arg(uid.map_or("-1".to_string(), |u| u.to_string()))
            .args([n.to_string(), secs.to_string(), bytes.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 is needed for the hostile-peer tests (apt-get install python3)");
        Peers { child: Some(child) }
    }

    /// Waits for the peers to finish; their report.
    pub fn wait(mut self) -> Value {
        let out = self.child.take().unwrap().wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "hostile peers failed: {:?}",
            out.status
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "hostile peers printed no report ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
