//! The "never slow Vault" scenario, shared by `tests/audit.rs` and
//! `benches/audit_latency.rs`: two OpenBao dev servers side by side, one with
//! only a file audit device, one with the same file device plus a socket
//! device pointed at a running vaultkeeper audit listener whose Slack webhook
//! hangs (reads the request, never answers). The same KV read is timed against
//! both, in alternating rounds, so drift on a busy machine hits both alike.

use super::{Agent, Mode, Slack};
use crate::support::bao::{free_port, Bao};
use crate::support::load::{Client, Latencies};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The request timed: a KV v2 read with the root token (every use of a root
/// token is itself an alert, so the listener's Slack path is busy too).
pub const PATH: &str = "secret/data/bench/app";

fn file_device(dir: &Path, name: &str) -> String {
    format!(
        "audit \"file\" \"{name}\" {{\n  options = {{ file_path = \"{}\" }}\n}}\n",
        dir.join(format!("{name}.log")).display()
    )
}

fn socket_device(port: u16) -> String {
    format!(
        "audit \"socket\" \"vk\" {{\n  options = {{ address = \"127.0.0.1:{port}\", socket_type = \"tcp\" }}\n}}\n"
    )
}

fn unix_socket_device(path: &Path) -> String {
    format!(
        "audit \"socket\" \"vk\" {{\n  options = {{ address = \"{}\", socket_type = \"unix\" }}\n}}\n",
        path.display()
    )
}

/// One OpenBao server of the scenario and what its audit devices are.
pub struct Server {
    pub label: &'static str,
    pub bao: Bao,
}

pub struct Scenario {
    /// In this order: file only; socket → vaultkeeper; file + socket →
    /// vaultkeeper; with `extended`, file + unix socket → vaultkeeper and
    /// file + socket → a reader that discards everything at once (OpenBao's
    /// own cost of a second device).
    pub servers: Vec<Server>,
    pub agent: Agent,
    pub slack: Slack,
    _sink: Option<NullSink>,
    _dir: tempfile::TempDir,
}

/// A TCP listener that reads and discards whatever it is sent.
pub struct NullSink {
    pub port: u16,
    running: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NullSink {
    pub fn start() -> NullSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let r = running.clone();
        let thread = std::thread::spawn(move || {
            let mut readers = Vec::new();
            while r.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        c.set_read_timeout(Some(Duration::from_millis(200)))
                            .unwrap();
                        let r = r.clone();
                        readers.push(std::thread::spawn(move || {
                            let mut buf = vec![0u8; 64 * 1024];
                            while r.load(Ordering::SeqCst) {
                                match std::io::Read::read(&mut c, &mut buf) {
                                    Ok(0) => return,
                                    Ok(_) => {}
                                    Err(e)
                                        if matches!(
                                            e.kind(),
                                            std::io::ErrorKind::WouldBlock
                                                | std::io::ErrorKind::TimedOut
                                        ) => {}
                                    Err(_) => return,
                                }
                            }
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            for t in readers {
                let _ = t.join();
            }
        });
        NullSink {
            port,
            running,
            thread: Some(thread),
        }
    }
}

impl Drop for NullSink {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Scenario {
    /// `level`: the agent's log level (`info` for benchmarks); `extended`:
    /// also the unix-socket and null-sink servers (see [`Scenario::servers`]).
    pub fn start(level: &'static str, extended: bool) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let slack = Slack::up_now();
        slack.set_mode(Mode::Hang);
        let url_file = dir.path().join("webhook-url");
        std::fs::write(&url_file, slack.url()).unwrap();
        let port = free_port();
        let agent_dir = dir.path().join("agent");
        std::fs::create_dir(&agent_dir).unwrap();
        // The listener is up before the server starts (OpenBao tests its audit
        // devices at start).
        let unix = dir.path().join("run/audit.sock");
        let agent = Agent::start_logging(
            &agent_dir,
            &json!({
                "listen": [format!("tcp:127.0.0.1:{port}"), format!("unix:{}", unix.display())],
                "slack": { "webhookUrlFile": url_file, "timeout": "60s" },
                "statsInterval": "1s",
            }),
            level,
        );
        let d = dir.path();
        let mut servers = vec![
            Server {
                label: "file only",
                bao: Bao::dev_with_config(&file_device(d, "only-file")),
            },
            Server {
                label: "socket → vaultkeeper (Slack hanging)",
                bao: Bao::dev_with_config(&socket_device(port)),
            },
            Server {
                label: "file + socket → vaultkeeper (Slack hanging)",
                bao: Bao::dev_with_config(&format!(
                    "{}{}",
                    file_device(d, "beside-socket"),
                    socket_device(port)
                )),
            },
        ];
        let sink = extended.then(NullSink::start);
        if let Some(sink) = &sink {
            servers.push(Server {
                label: "file + unix socket → vaultkeeper (Slack hanging)",
                bao: Bao::dev_with_config(&format!(
                    "{}{}",
                    file_device(d, "beside-unix"),
                    unix_socket_device(&unix)
                )),
            });
            servers.push(Server {
                label: "file + socket → null sink (reads, discards)",
                bao: Bao::dev_with_config(&format!(
                    "{}{}",
                    file_device(d, "beside-null-sink"),
                    socket_device(sink.port)
                )),
            });
        }
        for s in &servers {
            s.bao
                .kv_put("bench/app", &json!({ "user": "app", "port": "5432" }));
        }
        Scenario {
            servers,
            agent,
            slack,
            _sink: sink,
            _dir: dir,
        }
    }

    /// `rounds` x `per_round` requests against each server, round-robin
    /// (rotating which goes first), after `warmup` requests each. Returns the
    /// latencies in the order of [`Scenario::servers`].
    pub fn measure(&self, warmup: usize, rounds: usize, per_round: usize) -> Vec<Latencies> {
        let timeout = Duration::from_secs(10);
        let mut clients: Vec<Client> = self
            .servers
            .iter()
            .map(|s| Client::new(s.bao.port, "root", PATH, timeout))
            .collect();
        let mut out = vec![Latencies::default(); clients.len()];
        for c in &mut clients {
            c.run(warmup);
        }
        let n = clients.len();
        for r in 0..rounds {
            for k in 0..n {
                let i = (r + k) % n;
                out[i].extend(clients[i].run(per_round));
            }
        }
        out
    }

    /// The listener's counters once they account for at least `lines` lines.
    pub fn stats_after(&self, lines: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.agent.stats();
            if s["lines_read"].as_u64().unwrap_or(0) >= lines || Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The control: a socket device whose listener accepts and never reads (what a
/// listener that waited on its rules or on Slack would become). Requests until
/// one takes longer than `slow`, at most `max` requests or `limit` of time.
pub fn stalled_listener(slow: Duration, max: usize, limit: Duration) -> Latencies {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let running = Arc::new(AtomicBool::new(true));
    let held = {
        let running = running.clone();
        std::thread::spawn(move || {
            let mut conns = Vec::new();
            while running.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((c, _)) => conns.push(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })
    };
    let bao = Bao::dev_with_config(&format!(
        "{}{}",
        file_device(dir.path(), "beside-stalled"),
        socket_device(port)
    ));
    bao.kv_put("bench/app", &json!({ "user": "app" }));
    let mut c = Client::new(bao.port, "root", PATH, Duration::from_secs(10));
    let mut l = Latencies::default();
    let t0 = Instant::now();
    while l.samples.len() < max && t0.elapsed() < limit {
        let one = c.run(1);
        let slow_one = one.max() > slow;
        l.extend(one);
        if slow_one {
            break;
        }
    }
    drop(bao);
    running.store(false, Ordering::SeqCst);
    held.join().unwrap();
    l
}
