//! A local HTTP receiver standing in for Slack's incoming webhook, checking
//! every payload against Slack's documented webhook/Block Kit structure.

use super as support;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Accept,
    /// Answer 429 with this Retry-After to the next n requests.
    RateLimit(u32, u64),
    /// Read the request, never answer.
    Hang,
    /// Take the message (it counts as posted), answer 200 only after this long.
    Late(Duration),
}

#[derive(Default)]
struct State {
    payloads: Vec<Value>,
    problems: Vec<String>,
    rate_limited: u32,
    requests: u32,
    /// When each request had been read.
    times: Vec<Instant>,
}

/// A local HTTP receiver standing in for Slack's incoming webhook.
pub struct Slack {
    pub port: u16,
    pub path: String,
    state: Arc<Mutex<State>>,
    mode: Arc<Mutex<Mode>>,
    running: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Slack {
    /// Reserves a port; nothing listens until `up()` (a Slack outage).
    pub fn down() -> Slack {
        let port = support::bao::free_port();
        let secret = support::run::secret("webhook");
        Slack {
            port,
            path: format!("/services/T000/B000/{secret}"),
            state: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            running: Arc::new(AtomicBool::new(false)),
            thread: None,
        }
    }

    pub fn up_now() -> Slack {
        let mut s = Slack::down();
        s.up();
        s
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.path)
    }

    pub fn set_mode(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    pub fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("receiver port");
        listener.set_nonblocking(true).unwrap();
        self.running.store(true, Ordering::SeqCst);
        let (state, mode, running, path) = (
            self.state.clone(),
            self.mode.clone(),
            self.running.clone(),
            self.path.clone(),
        );
        self.thread = Some(std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let (state, mode, running, path) =
                            (state.clone(), mode.clone(), running.clone(), path.clone());
                        std::thread::spawn(move || serve_conn(s, &state, &mode, &running, &path));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }));
    }

    /// Stops listening (connections in progress are closed at their next request).
    pub fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }

    pub fn payloads(&self) -> Vec<Value> {
        self.state.lock().unwrap().payloads.clone()
    }

    pub fn rate_limited(&self) -> u32 {
        self.state.lock().unwrap().rate_limited
    }

    pub fn requests(&self) -> u32 {
        self.state.lock().unwrap().requests
    }

    /// When each request had been read, in order.
    pub fn request_times(&self) -> Vec<Instant> {
        self.state.lock().unwrap().times.clone()
    }

    /// Waits until `n` payloads arrived; panics after `secs`.
    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Value> {
        support::wait::wait_for_or(
            Duration::from_secs(secs),
            || Some(self.payloads()).filter(|p| p.len() >= n),
            || {
                let p = self.payloads();
                format!(
                    "only {} of {n} Slack messages after {secs}s: {p:#?}",
                    p.len()
                )
            },
        )
    }

    pub fn assert_valid(&self) {
        let st = self.state.lock().unwrap();
        assert!(
            st.problems.is_empty(),
            "invalid Slack payloads: {:#?}",
            st.problems
        );
    }
}

impl Drop for Slack {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve_conn(
    s: TcpStream,
    state: &Mutex<State>,
    mode: &Mutex<Mode>,
    running: &AtomicBool,
    path: &str,
) {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    loop {
        // request line (poll so that stop() ends idle keep-alive connections)
        let mut line = String::new();
        loop {
            if !running.load(Ordering::SeqCst) {
                return;
            }
            match r.read_line(&mut line) {
                Ok(0) => return,
                Ok(_) => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(_) => return,
            }
        }
        r.get_ref()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut len = 0usize;
        let mut ctype = String::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap_or((h, ""));
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().unwrap(),
                "content-type" => ctype = v.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        r.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let m = *mode.lock().unwrap();
        let mut st = state.lock().unwrap();
        st.requests += 1;
        st.times.push(Instant::now());
        match m {
            Mode::Hang => {
                drop(st);
                while running.load(Ordering::SeqCst) && *mode.lock().unwrap() == Mode::Hang {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
            Mode::RateLimit(n, secs) if n > 0 => {
                st.rate_limited += 1;
                *mode.lock().unwrap() = if n > 1 {
                    Mode::RateLimit(n - 1, secs)
                } else {
                    Mode::Accept
                };
                let b = "{\"ok\":false,\"error\":\"ratelimited\"}";
                let _ = write!(w, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {secs}\r\nContent-Length: {}\r\n\r\n{b}", b.len());
                continue;
            }
            _ => {}
        }
        let req_path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        if !line.starts_with("POST ") || req_path != path {
            st.problems.push(format!("unexpected request {line:?}"));
        }
        if !ctype.starts_with("application/json") {
            st.problems.push(format!("content-type {ctype:?}"));
        }
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => {
                if let Err(p) = check_block_kit(&v) {
                    st.problems.push(p);
                }
                st.payloads.push(v);
            }
            Err(e) => st.problems.push(format!("body is not JSON: {e}")),
        }
        drop(st);
        if let Mode::Late(d) = m {
            let until = Instant::now() + d;
            while Instant::now() < until && running.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
        );
    }
}

fn text_obj(t: &Value, kinds: &[&str], max: usize, at: &str) -> Result<(), String> {
    let kind = t["type"]
        .as_str()
        .ok_or(format!("{at}: text object without type"))?;
    if !kinds.contains(&kind) {
        return Err(format!("{at}: text type {kind} not in {kinds:?}"));
    }
    let s = t["text"]
        .as_str()
        .ok_or(format!("{at}: text object without text"))?;
    if s.is_empty() || s.chars().count() > max {
        return Err(format!(
            "{at}: text length {} not in 1..={max}",
            s.chars().count()
        ));
    }
    for k in t.as_object().unwrap().keys() {
        if !["type", "text", "emoji", "verbatim"].contains(&k.as_str()) {
            return Err(format!("{at}: unknown key {k} in a text object"));
        }
    }
    Ok(())
}

/// Slack's documented structure for incoming-webhook messages with Block Kit.
pub fn check_block_kit(v: &Value) -> Result<(), String> {
    let text = v["text"].as_str().ok_or("no top-level text fallback")?;
    if text.is_empty() {
        return Err("empty text fallback".into());
    }
    let blocks = v["blocks"].as_array().ok_or("no blocks array")?;
    if blocks.is_empty() || blocks.len() > 50 {
        return Err(format!("{} blocks (1..=50)", blocks.len()));
    }
    for (i, b) in blocks.iter().enumerate() {
        let at = format!("blocks[{i}]");
        match b["type"].as_str() {
            Some("header") => text_obj(&b["text"], &["plain_text"], 150, &at)?,
            Some("section") => {
                if b.get("text").is_none() && b.get("fields").is_none() {
                    return Err(format!("{at}: section without text or fields"));
                }
                if let Some(t) = b.get("text") {
                    text_obj(t, &["plain_text", "mrkdwn"], 3000, &at)?;
                }
                if let Some(f) = b.get("fields") {
                    let f = f
                        .as_array()
                        .ok_or(format!("{at}: fields is not an array"))?;
                    if f.is_empty() || f.len() > 10 {
                        return Err(format!("{at}: {} fields (1..=10)", f.len()));
                    }
                    for (j, t) in f.iter().enumerate() {
                        text_obj(
                            t,
                            &["plain_text", "mrkdwn"],
                            2000,
                            &format!("{at}.fields[{j}]"),
                        )?;
                    }
                }
            }
            Some("context") => {
                let e = b["elements"]
                    .as_array()
                    .ok_or(format!("{at}: context without elements"))?;
                if e.is_empty() || e.len() > 10 {
                    return Err(format!("{at}: {} context elements (1..=10)", e.len()));
                }
                for (j, t) in e.iter().enumerate() {
                    text_obj(
                        t,
                        &["plain_text", "mrkdwn"],
                        3000,
                        &format!("{at}.elements[{j}]"),
                    )?;
                }
            }
            Some("divider") => {
                if b.as_object().unwrap().len() != 1 {
                    return Err(format!("{at}: divider with extra keys"));
                }
            }
            other => {
                return Err(format!(
                    "{at}: block type {other:?} not in header/section/context/divider"
                ))
            }
        }
    }
    Ok(())
}
