//! A minimal keep-alive HTTP/1.1 client that times each request to OpenBao,
//! for the "never slow Vault" test and benchmark: one connection, one request
//! at a time, nothing between the clock and the socket but a parser for the
//! status line, the headers and a `Content-Length` or chunked body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Per-request latencies, in the order they were measured.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    pub samples: Vec<Duration>,
    /// Requests answered with anything but 200.
    pub errors: usize,
}

impl Latencies {
    pub fn extend(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
    }

    /// The q-quantile (0.0..=1.0), nearest rank.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut v = self.samples.clone();
        v.sort_unstable();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    pub fn max(&self) -> Duration {
        self.samples.iter().copied().max().unwrap_or_default()
    }

    pub fn over(&self, limit: Duration) -> usize {
        self.samples.iter().filter(|d| **d > limit).count()
    }

    /// "p50 0.412 ms, p99 0.981 ms, max 3.2 ms (n=10000)".
    pub fn summary(&self) -> String {
        format!(
            "p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.1} ms, >100 ms: {}, errors {} (n={})",
            ms(self.quantile(0.50)),
            ms(self.quantile(0.90)),
            ms(self.quantile(0.99)),
            ms(self.quantile(0.999)),
            ms(self.max()),
            self.over(Duration::from_millis(100)),
            self.errors,
            self.samples.len()
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One keep-alive connection to `127.0.0.1:port`.
pub struct Client {
    port: u16,
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Client {
    /// GETs `/v1/<path>` with `token`; `timeout` bounds each read.
    pub fn new(port: u16, token: &str, path: &str, timeout: Duration) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to OpenBao");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(timeout)).unwrap();
        let request = format!(
            "GET /v1/{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Vault-Token: {token}\r\nConnection: keep-alive\r\n\r\n"
        )
        .into_bytes();
        Client {
            port,
            reader: BufReader::new(stream),
            request,
        }
    }

    /// One request; its latency and whether it was answered 200.
    pub fn once(&mut self) -> std::io::Result<(Duration, bool)> {
        let t0 = Instant::now();
        self.reader.get_mut().write_all(&self.request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let ok = line.split(' ').nth(1) == Some("200");
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut body = vec![0u8; n + 2];
                self.reader.read_exact(&mut body)?;
                if n == 0 {
                    break;
                }
            }
        } else {
            let mut body = vec![0u8; length.unwrap_or(0)];
            self.reader.read_exact(&mut body)?;
        }
        Ok((t0.elapsed(), ok))
    }

    /// `n` requests back to back. A timed-out or broken connection counts as
    /// an error with the time it took, and the client reconnects.
    pub fn run(&mut self, n: usize) -> Latencies {
        let mut l = Latencies::default();
        for _ in 0..n {
            let t0 = Instant::now();
            match self.once() {
                Ok((d, ok)) => {
                    l.samples.push(d);
                    if !ok {
                        l.errors += 1;
                    }
                }
                Err(_) => {
                    l.samples.push(t0.elapsed());
                    l.errors += 1;
                    self.reconnect();
                }
            }
        }
        l
    }

    fn reconnect(&mut self) {
        let timeout = self.reader.get_ref().read_timeout().unwrap();
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("reconnect to OpenBao");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(timeout).unwrap();
        self.reader = BufReader::new(stream);
    }
}
