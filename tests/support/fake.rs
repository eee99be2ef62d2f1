//! Fake HTTP(S) servers for the wire tests: a Vault that answers what a test's
//! handler says (redirects, 2 GB bodies, certificates of any kind), a recording
//! server that counts every connection, and a counting TCP proxy. Plain std
//! threads; every server stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
pub enum Reply {
    Json(u16, serde_json::Value),
    /// An empty answer with this status (e.g. 204).
    Empty(u16),
    /// A redirect with this status and `Location`.
    Redirect(u16, String),
    /// A 200 of `len` bytes, generated as it is sent; with `Content-Length` when
    /// `declared`, else chunked.
    Huge {
        len: u64,
        declared: bool,
    },
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

#[derive(Default)]
struct Stats {
    requests: Mutex<Vec<Request>>,
    connections: AtomicUsize,
    bytes_sent: AtomicU64,
}

pub struct Fake {
    pub port: u16,
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub addr: String,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    /// A plain HTTP server on a free loopback port.
    pub fn http(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Fake {
        Fake::start(0, None, Arc::new(handler))
    }

    /// An HTTPS server with this certificate chain and key.
    pub fn https(
        tls: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Fake {
        Fake::start(0, Some(tls), Arc::new(handler))
    }

    /// An HTTPS server on a given port (a second server where a first one was).
    pub fn https_on(
        port: u16,
        tls: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Fake {
        Fake::start(port, Some(tls), Arc::new(handler))
    }

    fn start(port: u16, tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>) -> Fake {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the fake server");
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (stats.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                s.connections.fetch_add(1, Ordering::SeqCst);
                let (s, h, tls) = (s.clone(), handler.clone(), tls.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(20)));
                    match tls {
                        None => serve(conn, &s, &*h),
                        Some(cfg) => {
                            let Ok(sc) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            let mut tls = rustls::StreamOwned::new(sc, conn);
                            serve(&mut tls, &s, &*h);
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                        }
                    }
                });
            }
        });
        Fake {
            port,
            addr: format!("{scheme}://127.0.0.1:{port}"),
            stats,
            stop,
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.stats.requests.lock().unwrap().clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::SeqCst)
    }

    /// Body bytes written so far (for the huge answers).
    pub fn bytes_sent(&self) -> u64 {
        self.stats.bytes_sent.load(Ordering::SeqCst)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves requests on one connection (keep-alive) until the peer closes it.
fn serve<S: Read + Write>(stream: S, stats: &Stats, handler: &Handler) {
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len.min(1 << 20)];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request {
            method,
            path,
            headers,
            body,
        };
        stats.requests.lock().unwrap().push(req.clone());
        let reply = handler(&req);
        let w = r.get_mut();
        if write_reply(w, reply, stats).is_err() {
            return;
        }
    }
}

fn write_reply<W: Write>(w: &mut W, reply: Reply, stats: &Stats) -> std::io::Result<()> {
    match reply {
        Reply::Json(status, v) => {
            let body = v.to_string();
            write!(
                w,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
        }
        Reply::Empty(status) => write!(w, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n")?,
        Reply::Redirect(status, loc) => write!(
            w,
            "HTTP/1.1 {status} X\r\nLocation: {loc}\r\nContent-Length: 0\r\n\r\n"
        )?,
        Reply::Huge { len, declared } => {
            if declared {
                write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
                )?;
            } else {
                write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                )?;
            }
            let chunk = vec![b'a'; 256 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                if !declared {
                    write!(w, "{n:x}\r\n")?;
                }
                w.write_all(&chunk[..n])?;
                if !declared {
                    w.write_all(b"\r\n")?;
                }
                stats.bytes_sent.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
            if !declared {
                w.write_all(b"0\r\n\r\n")?;
            }
        }
    }
    w.flush()
}

/// The minimal Vault a fetch needs: AppRole login answering `token`, KV v2 reads
/// answering `data` for every path, revoke-self and lookup-self. `route` goes
/// first; `None` from it falls through to these.
pub fn vault_like(
    token: String,
    data: serde_json::Value,
    route: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |req| {
        if let Some(r) = route(req) {
            return r;
        }
        let p = req.path.as_str();
        if p.starts_with("/v1/auth/approle/login") {
            Reply::Json(
                200,
                serde_json::json!({ "auth": {
                    "client_token": token, "accessor": "fakeaccessor", "lease_duration": 3600,
                    "renewable": true, "policies": ["default"],
                    "metadata": { "role_name": "h1" }
                }}),
            )
        } else if p == "/v1/auth/token/revoke-self" {
            Reply::Empty(204)
        } else if p == "/v1/auth/token/lookup-self" {
            Reply::Json(
                200,
                serde_json::json!({ "data": { "meta": { "role_name": "h1" }, "ttl": 3600 } }),
            )
        } else if p.starts_with("/v1/secret/data/") {
            Reply::Json(
                200,
                serde_json::json!({ "data": { "data": data, "metadata": { "version": 1 } } }),
            )
        } else {
            Reply::Json(404, serde_json::json!({ "errors": [] }))
        }
    }
}

/// A test PKI: a CA and certificates it (or another CA) signs.
pub struct Pki {
    pub ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = params.self_signed(&ca_key).unwrap();
        Pki {
            ca_pem: ca.pem(),
            issuer: rcgen::Issuer::new(params, ca_key),
        }
    }

    /// A server configuration presenting a certificate for `names` (DNS names
    /// or IP addresses) signed by this CA.
    pub fn server(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let chain = vec![cert.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        )
    }
}

/// A TCP proxy in front of `upstream_port` that counts the connections made to
/// it (whether or not the upstream answers).
pub struct CountingProxy {
    pub port: u16,
    pub addr: String,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CountingProxy {
    pub fn new(upstream_port: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, st) = (connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(down) = conn else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let Ok(up) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                        let _ = down.shutdown(Shutdown::Both);
                        return;
                    };
                    let (mut d2, mut u2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
                    let t = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut d2, &mut u2);
                        let _ = u2.shutdown(Shutdown::Write);
                    });
                    let (mut u, mut d) = (up, down);
                    let _ = std::io::copy(&mut u, &mut d);
                    let _ = d.shutdown(Shutdown::Both);
                    let _ = t.join();
                });
            }
        });
        CountingProxy {
            port,
            addr: format!("http://127.0.0.1:{port}"),
            connections,
            stop,
            thread: Some(thread),
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
