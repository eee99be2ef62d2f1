//! A real (non-dev) OpenBao server with on-disk storage, a plain-HTTP loopback
//! listener and extra HCL (audit devices), initialised with one unseal key. It
//! can be sealed, unsealed and restarted with a changed config (OpenBao 2.x only
//! takes audit devices from the config file). Killed when dropped.
//!
//! The storage is a single-node integrated storage (`raft`) directory: OpenBao
//! 2.x removed `storage "file"` ("unknown storage type file").

use super::bao::{bao_bin, free_port_pair, http_status};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct BaoFile {
    pub addr: String,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
    /// The initial root token.
    pub token: String,
    pub unseal_key: String,
    child: Option<Child>,
}

impl BaoFile {
    /// Starts, initialises (1 key share) and unseals a server; mounts KV v2 at `secret/`.
    /// `extra_hcl` may use `{dir}` for the server's temporary directory.
    pub fn start(extra_hcl: &str) -> BaoFile {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let port = free_port_pair();
        let mut bao = BaoFile {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            log: dir.path().join("bao.log"),
            dir,
            token: String::new(),
            unseal_key: String::new(),
            child: None,
        };
        bao.write_config(extra_hcl);
        bao.spawn();
        let init = bao.cli_json(&["operator", "init", "-key-shares=1", "-key-threshold=1"]);
        bao.unseal_key = init["unseal_keys_b64"][0].as_str().unwrap().to_string();
        bao.token = init["root_token"].as_str().unwrap().to_string();
        super::run::register_secret(&bao.unseal_key);
        bao.unseal();
        bao.cli(&["secrets", "enable", "-path=secret", "kv-v2"]);
        bao
    }

    fn write_config(&self, extra_hcl: &str) {
        let d = self.dir.path().display().to_string();
        let cfg = format!(
            "storage \"raft\" {{\n  path = \"{d}/data\"\n  node_id = \"n1\"\n}}\n\
             listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cport}\"\n  tls_disable = true\n}}\n\
             api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"http://127.0.0.1:{cport}\"\n{extra}\n",
            port = self.port,
            cport = self.port + 1,
            extra = extra_hcl.replace("{dir}", &d),
        );
        std::fs::write(self.dir.path().join("server.hcl"), cfg).unwrap();
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(bao_bin())
            .args([
                "server",
                &format!("-config={}", self.dir.path().join("server.hcl").display()),
            ])
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start bao server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("bao server exited with {status}: {}", self.log_text());
            }
            // 200 active, 501 not initialised, 503 sealed: all mean "listening".
            if matches!(
                http_status(self.port, "/v1/sys/health"),
                Some(200 | 501 | 503)
            ) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "bao server not ready after 30s: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server, rewrites its config with `extra_hcl`, starts and unseals it.
    pub fn restart_with(&mut self, extra_hcl: &str) {
        self.stop();
        self.write_config(extra_hcl);
        self.spawn();
        self.unseal();
    }

    pub fn seal(&self) {
        self.cli(&["operator", "seal"]);
        assert_eq!(
            http_status(self.port, "/v1/sys/health"),
            Some(503),
            "server did not seal"
        );
    }

    pub fn unseal(&self) {
        let key = self.unseal_key.clone();
        self.cli(&["operator", "unseal", &key]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_status(self.port, "/v1/sys/health") != Some(200) {
            assert!(
                Instant::now() < deadline,
                "server did not become active after unseal"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs the real `bao` CLI with `token`; returns the raw output.
    pub fn cli_as(&self, token: &str, args: &[&str]) -> Output {
        Command::new(bao_bin())
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", token)
            .env("BAO_FORMAT", "json")
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs the `bao` CLI with the root token; panics on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_as(&self.token, args);
        assert!(
            out.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn cli_json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.cli(args)).unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for BaoFile {
    fn drop(&mut self) {
        self.stop();
        super::run::assert_no_secret_in(&self.log_text(), "the OpenBao server log");
        super::run::keep_log("bao-file", &self.log_text());
    }
}
