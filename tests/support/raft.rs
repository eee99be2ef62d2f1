//! A real 3-node OpenBao raft cluster on loopback, for tests that need a leader
//! to lose: `Cluster::start(3)` initialises node 0 (one unseal key), unseals it,
//! and lets the others `retry_join` it (their configs list every node's API
//! address, as a production `retry_join` set-up does), then unseals them so they
//! become standbys. Nodes can be killed (SIGKILL), stopped (SIGTERM) and
//! restarted (started and unsealed again, their raft data kept). Every process
//! is killed when the cluster is dropped.
//!
//! ```ignore
//! let c = Cluster::start(3);
//! let admin = c.admin();               // a `Bao` CLI handle on the active node
//! admin.kv_put("hosts/web/db", &json!({"password": "..."}));
//! let leader = c.leader();             // index of the active node
//! c.kill(leader);
//! let new = c.wait_leader_not(leader); // a standby took over
//! ```

use super::bao::{bao_bin, free_port_pair, Bao};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cluster operation (start, election, unseal) may take.
const SLOW: Duration = Duration::from_secs(60);

pub struct Node {
    pub port: u16,
    pub addr: String,
    pub dir: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
}

pub struct Cluster {
    pub nodes: Vec<Mutex<Node>>,
    pub root_token: String,
    pub unseal_key: String,
    _dir: tempfile::TempDir,
    /// One cluster at a time per test binary: three nodes electing and
    /// replicating next to other clusters on two shared cores miss their
    /// timeouts (held until the nodes are killed).
    _turn: std::sync::MutexGuard<'static, ()>,
}

static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Cluster {
    /// `n` nodes (3 for a real HA cluster), initialised, unsealed, with KV v2 at `secret/`.
    pub fn start(n: usize) -> Cluster {
        assert!(n >= 1);
        let turn = ONE_CLUSTER_AT_A_TIME
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let mut ports: Vec<u16> = Vec::new();
        while ports.len() < n {
            let p = free_port_pair();
            if !ports.iter().any(|q| q.abs_diff(p) <= 1) {
                ports.push(p);
            }
        }
        let nodes: Vec<Node> = ports
            .iter()
            .enumerate()
            .map(|(i, &port)| {
                let d = dir.path().join(format!("n{i}"));
                std::fs::create_dir_all(d.join("data")).unwrap();
                let joins: String = ports
                    .iter()
                    .filter(|&&p| p != port)
                    .map(|p| {
                        format!("  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{p}\"\n  }}\n")
                    })
                    .collect();
                let cfg = format!(
                    "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"n{i}\"\n  performance_multiplier = 1\n{joins}}}\n\
                     listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cport}\"\n  tls_disable = true\n}}\n\
                     api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cport}\"\n\
                     disable_mlock = true\n",
                    data = d.join("data").display(),
                    cport = port + 1,
                );
                std::fs::write(d.join("server.hcl"), cfg).unwrap();
                Node {
                    port,
                    addr: format!("http://127.0.0.1:{port}"),
                    log: d.join("bao.log"),
                    dir: d,
                    child: None,
                }
            })
            .collect();
        let mut c = Cluster {
            nodes: nodes.into_iter().map(Mutex::new).collect(),
            root_token: String::new(),
            unseal_key: String::new(),
            _dir: dir,
            _turn: turn,
        };
        for i in 0..n {
            c.spawn(i);
        }
        let init = c.cli_json_on(
            0,
            "",
            &["operator", "init", "-key-shares=1", "-key-threshold=1"],
        );
        c.unseal_key = init["unseal_keys_b64"][0].as_str().unwrap().to_string();
        c.root_token = init["root_token"].as_str().unwrap().to_string();
        super::run::register_secret(&c.unseal_key);
        super::run::register_secret(&c.root_token);
        c.unseal(0);
        c.wait_health(0, &[200]);
        // Autopilot promotes a joined node to voter once it has been healthy for
        // the stabilization time (10 s by default): shorten it, then wait for
        // every node to vote, or a leader lost early would leave no quorum.
        let out = c.cli_output_on(
            0,
            &c.root_token,
            &[
                "operator",
                "raft",
                "autopilot",
                "set-config",
                "-server-stabilization-time=1s",
            ],
        );
        assert!(
            out.status.success(),
            "autopilot set-config failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for i in 1..n {
            c.unseal(i);
            c.wait_health(i, &[429]);
        }
        c.wait_voters(n);
        c.admin()
            .cli(&["secrets", "enable", "-path=secret", "kv-v2"]);
        c
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].lock().unwrap().port
    }

    pub fn addr(&self, i: usize) -> String {
        self.nodes[i].lock().unwrap().addr.clone()
    }

    /// Every node's address, in node order.
    pub fn addrs(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.addr(i)).collect()
    }

    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].lock().unwrap().child.is_some()
    }

    fn spawn(&self, i: usize) {
        let mut node = self.nodes[i].lock().unwrap();
        assert!(node.child.is_none(), "node {i} is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .unwrap();
        let child = Command::new(bao_bin())
            .arg("server")
            .arg(format!("-config={}", node.dir.join("server.hcl").display()))
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .env("HOME", &node.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start bao server");
        node.child = Some(child);
        let port = node.port;
        drop(node);
        // Listening: 501 (not initialised) or 503 (sealed).
        self.wait_health(i, &[200, 429, 501, 503]);
        let _ = port;
    }

    /// Unseals node `i` with the cluster's key (a standby joins through `retry_join`).
    pub fn unseal(&self, i: usize) {
        let deadline = Instant::now() + SLOW;
        loop {
            let out = self.cli_output_on(i, "", &["operator", "unseal", &self.unseal_key]);
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {i} cannot be unsealed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until node `i`'s `sys/health` answers one of `codes`
    /// (200 active, 429 standby, 501 not initialised, 503 sealed).
    pub fn wait_health(&self, i: usize, codes: &[u16]) {
        let port = self.port(i);
        let deadline = Instant::now() + SLOW;
        loop {
            let got = http_get(port, "/v1/sys/health").map(|(s, _)| s);
            if got.is_some_and(|s| codes.contains(&s)) {
                return;
            }
            if let Some(c) = self.nodes[i].lock().unwrap().child.as_mut() {
                if let Some(status) = c.try_wait().unwrap() {
                    panic!("bao node {i} exited with {status}: {}", self.log(i));
                }
            }
            assert!(
                Instant::now() < deadline,
                "node {i}: sys/health is {got:?}, expected one of {codes:?} within {SLOW:?}\n{}",
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the raft configuration has `n` voters.
    pub fn wait_voters(&self, n: usize) {
        let deadline = Instant::now() + SLOW;
        loop {
            let i = self.leader();
            let out = self.cli_output_on(i, &self.root_token, &["operator", "raft", "list-peers"]);
            let voters = serde_json::from_slice::<Value>(&out.stdout)
                .ok()
                .and_then(|v| {
                    v["data"]["config"]["servers"].as_array().map(|a| {
                        a.iter()
                            .filter(|s| s["voter"].as_bool() == Some(true))
                            .count()
                    })
                })
                .unwrap_or(0);
            if voters == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster has {voters} voters, not {n}, after {SLOW:?}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The index of the active node, waiting for an election if there is none.
    pub fn leader(&self) -> usize {
        self.wait_leader(|_| true)
    }

    /// Waits until a node other than `old` is active; returns its index.
    pub fn wait_leader_not(&self, old: usize) -> usize {
        self.wait_leader(|i| i != old)
    }

    fn wait_leader(&self, ok: impl Fn(usize) -> bool) -> usize {
        let deadline = Instant::now() + SLOW;
        loop {
            for i in 0..self.len() {
                if ok(i)
                    && self.is_running(i)
                    && http_get(self.port(i), "/v1/sys/health").map(|(s, _)| s) == Some(200)
                {
                    return i;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no active node within {SLOW:?}:\n{}",
                (0..self.len())
                    .map(|i| format!("--- node {i}\n{}", self.log(i)))
                    .collect::<String>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `sys/leader` as node `i` sees it.
    pub fn leader_address_seen_by(&self, i: usize) -> Option<String> {
        let (status, body) = http_get(self.port(i), "/v1/sys/leader")?;
        if status != 200 {
            return None;
        }
        let v: Value = serde_json::from_str(&body).ok()?;
        v["leader_address"].as_str().map(str::to_string)
    }

    /// SIGKILL: the node vanishes mid-request, as a crash or power loss would.
    pub fn kill(&self, i: usize) {
        if let Some(mut c) = self.nodes[i].lock().unwrap().child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait: a clean shutdown (a leader steps down first).
    pub fn stop(&self, i: usize) {
        if let Some(mut c) = self.nodes[i].lock().unwrap().child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(20);
            while c.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.wait();
        }
    }

    /// Starts a stopped or killed node again and unseals it; it rejoins as a
    /// standby (or the leader when it is the only one left to vote).
    pub fn restart(&self, i: usize) {
        self.spawn(i);
        self.unseal(i);
        self.wait_health(i, &[200, 429]);
    }

    /// SIGSTOP: the node hangs with its connections open (requests to it, or
    /// forwarded by standbys to it, wait); [`Cluster::kill`] ends it.
    pub fn freeze(&self, i: usize) {
        if let Some(c) = self.nodes[i].lock().unwrap().child.as_ref() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGSTOP,
            );
        }
    }

    /// Starts every stopped node, unseals them all (a raft node alone has no
    /// quorum: they must come up together), and waits for a leader and for each
    /// node to serve (active or standby).
    pub fn start_stopped(&self) {
        let stopped: Vec<usize> = (0..self.len()).filter(|&i| !self.is_running(i)).collect();
        for &i in &stopped {
            self.spawn(i);
        }
        for &i in &stopped {
            self.unseal(i);
        }
        self.leader();
        for i in 0..self.len() {
            self.wait_health(i, &[200, 429]);
        }
    }

    /// Writes KV v2 `secret/<path>` through the HTTP API of the active node
    /// (one request; the CLI costs a process per write).
    pub fn kv_put_http(&self, path: &str, data: &Value) {
        let body = serde_json::json!({ "data": data }).to_string();
        let deadline = Instant::now() + SLOW;
        loop {
            let port = self.port(self.leader());
            if let Some((200 | 204, _)) = http_request(
                port,
                "POST",
                &format!("/v1/secret/data/{path}"),
                &self.root_token,
                &body,
            ) {
                return;
            }
            assert!(Instant::now() < deadline, "cannot write secret/{path}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A `bao` CLI handle with the root token on the active node (for setup:
    /// `kv_put`, `approle`, `policy_write`, ...). Call it again after a failover.
    pub fn admin(&self) -> Bao {
        let i = self.leader();
        Bao::remote(&self.addr(i), self.port(i), &self.root_token)
    }

    fn cli_output_on(&self, i: usize, token: &str, args: &[&str]) -> std::process::Output {
        Command::new(bao_bin())
            .args(args)
            .env("BAO_ADDR", self.addr(i))
            .env("BAO_TOKEN", token)
            .env("BAO_FORMAT", "json")
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn cli_json_on(&self, i: usize, token: &str, args: &[&str]) -> Value {
        let out = self.cli_output_on(i, token, args);
        assert!(
            out.status.success(),
            "bao {args:?} on node {i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].lock().unwrap().log).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.len() {
            self.kill(i);
        }
        for i in 0..self.len() {
            let log = self.log(i);
            super::run::assert_no_secret_in(&log, "an OpenBao raft node's log");
            super::run::keep_log(&format!("raft-n{i}"), &log);
        }
    }
}

/// GET `path` on 127.0.0.1:`port` (HTTP/1.0, whole body); None when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300))
            .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    Some((status, body.to_string()))
}

/// `method` `path` with a token and a JSON body on 127.0.0.1:`port` (HTTP/1.0).
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300))
            .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Vault-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    Some((status, body.to_string()))
}
