//! Slack slash commands (`vaultkeeper chat serve`, and inside `vaultkeeper
//! run`) against a real OpenBao, with a local client that signs requests
//! exactly as Slack documents it (HMAC-SHA256 of `v0:{timestamp}:{body}`,
//! written here independently of the agent's code) and the Slack stand-in of
//! tests/support/slack.rs receiving what is posted to `response_url`.
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::bao::{free_port, Bao};
use support::daemon::Daemon;
use support::logged::{assert_logged, assert_not_logged};
use support::run::secret;
use support::slack::{check_block_kit, Slack};
use support::spec::Host;

const INSIGHTS_POLICY: &str = include_str!("../docs/policies/insights.hcl");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Slack's signature, computed here the way Slack's documentation says.
fn slack_signature(secret: &str, ts: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// A slash command's form body, as Slack sends it (each with its own trigger_id).
fn form(text: &str, channel: &str, user: &str, response_url: &str) -> Vec<u8> {
    static TRIGGER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let trigger = TRIGGER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    form_urlencoded::Serializer::new(String::new())
        .append_pair("token", "gIkuvaNzQIHg97ATvDxqgjtO")
        .append_pair("team_id", "T0001")
        .append_pair("team_domain", "example")
        .append_pair("channel_id", channel)
        .append_pair("channel_name", "ops")
        .append_pair("user_id", user)
        .append_pair("user_name", "steve")
        .append_pair("command", "/vault")
        .append_pair("text", text)
        .append_pair("api_app_id", "A123456")
        .append_pair("response_url", response_url)
        .append_pair("trigger_id", &format!("13345224609.738474920.{trigger:x}"))
        .finish()
        .into_bytes()
}

/// The answer: status code and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// One raw HTTP/1.1 exchange on loopback.
fn exchange(port: u16, request: &[u8]) -> Answer {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A refused request may be answered before the whole body is sent.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Answer {
        status,
        body,
        took: started.elapsed(),
    }
}

fn request(method: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} /slack/commands HTTP/1.1\r\nHost: vault-bot.example\r\nUser-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

/// A request signed with `secret` at time `ts`.
fn signed_request(secret: &str, ts: u64, body: &[u8]) -> Vec<u8> {
    let ts = ts.to_string();
    request(
        "POST",
        &[
            ("X-Slack-Request-Timestamp", ts.clone()),
            ("X-Slack-Signature", slack_signature(secret, &ts, body)),
        ],
        body,
    )
}

/// `vaultkeeper chat serve` (or `run`) and its port; killed, its log kept and
/// swept for secrets when dropped (see [`Daemon`]).
struct Server {
    proc: Daemon,
    port: u16,
}

impl Server {
    fn start(spec: &Path, port: u16, sub: &[&str]) -> Server {
        let s = Server {
            proc: Daemon::spawn(spec, sub, "chat", &[]),
            port,
        };
        s.proc
            .wait_log("chat: answering Slack commands on", Duration::from_secs(30));
        s
    }

    fn log_text(&self) -> String {
        self.proc.log_text()
    }

    fn wait_log(&self, needle: &str, timeout: Duration) {
        self.proc.wait_log(needle, timeout)
    }

    /// Waits until `needle` was logged `n` times.
    fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) {
        self.proc.wait_log_count(needle, n, timeout)
    }

    fn hangup(&self) {
        self.proc.signal("HUP")
    }

    fn send(&self, request: &[u8]) -> Answer {
        exchange(self.port, request)
    }

    /// SIGTERM, as systemd stops it; waits until it has exited.
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.proc.stop()
    }
}

/// The signing secret in its file (0400), as vaultkeeper would render it.
fn write_signing_secret(path: &Path, value: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, format!("{value}\n")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A host whose AppRole may also read what insights read.
fn host_with_approle(bao: &Bao) -> Host {
    let (role_id, secret_id) = bao.approle("web");
    bao.policy_write("vaultkeeper-insights", INSIGHTS_POLICY);
    bao.cli(&[
        "write",
        "auth/approle/role/web",
        "token_policies=host-web,vaultkeeper-insights",
        "token_ttl=1h",
    ]);
    let host = Host::new();
    host.write_credentials(&role_id, &secret_id);
    host
}

fn chat_spec(host: &Host, vault: &str, port: u16, chat_extra: Value) -> PathBuf {
    let mut spec = host.spec(vault, json!({}));
    let mut chat = json!({
        "listen": format!("127.0.0.1:{port}"),
        "signingSecretFile": host.path("run/secrets/slack/signing-secret"),
    });
    for (k, v) in chat_extra.as_object().unwrap() {
        chat[k] = v.clone();
    }
    spec["chat"] = chat;
    // No network here: the release feed is a closed loopback port.
    spec["insights"] = json!({ "versionFeed": "http://127.0.0.1:9/releases" });
    host.write_spec(&spec)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn block_texts(v: &Value) -> String {
    v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["text"]["text"]
                .as_str()
                .or(b["elements"][0]["text"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asks `text` and returns the full answer: inline, or (after an
/// acknowledgement) the one posted to the stand-in's response_url.
fn ask(server: &Server, secret: &str, slack: &Slack, text: &str) -> Value {
    let before = slack.payloads().len();
    let a = server.send(&signed_request(
        secret,
        now(),
        &form(text, "C0OPS", "U0ALICE", &slack.url()),
    ));
    assert_eq!(a.status, 200, "{text}: {a:?}");
    assert!(a.took < Duration::from_secs(3), "{text} took {:?}", a.took);
    let v = a.json();
    check_block_kit(&v).unwrap_or_else(|e| panic!("{text}: {e}: {v:#}"));
    if v["text"].as_str().unwrap().starts_with("Collecting the") {
        let p = slack.wait_for(before + 1, 60);
        return p[before].clone();
    }
    v
}

#[test]
fn verified_commands_get_block_kit_and_every_forgery_is_refused() {
    let bao = Bao::dev();
    let host = host_with_approle(&bao);
    let signing = secret("signing");
    let secret_file = host.path("run/secrets/slack/signing-secret");
    write_signing_secret(&secret_file, &signing);
    let slack = Slack::up_now();
    let origin = format!("http://127.0.0.1:{}", slack.port);
    let port = free_port();
    let spec = chat_spec(
        &host,
        &bao.addr,
        port,
        json!({ "allowedChannels": ["C0OPS"], "allowedUsers": ["U0ALICE", "U0BOB"], "testResponseOrigin": origin, "collectionInterval": "5s" }),
    );
    let server = Server::start(&spec, port, &["chat", "serve"]);

    // status: 200 and the digest's blocks, within Slack's 3 s.
    let body = form("status", "C0OPS", "U0ALICE", &slack.url());
    let first = signed_request(&signing, now(), &body);
    let a = server.send(&first);
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.took < Duration::from_secs(3), "{:?}", a.took);
    eprintln!(
        "status, first collection: answered in {} ms",
        a.took.as_millis()
    );
    let v = a.json();
    check_block_kit(&v).unwrap();
    assert_eq!(v["response_type"], "ephemeral");
    let t = block_texts(&v);
    assert!(
        t.contains(&format!(
            "*Server* {} — :large_green_circle: unsealed",
            bao.addr
        )),
        "{t}"
    );
    assert!(t.contains("*Secrets* 0 on this host, all fresh"), "{t}");
    assert!(t.contains("*This host's token* TTL"), "{t}");
    assert!(v["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Vault status for "));

    // The same request again is a replay.
    assert_eq!(server.send(&first).status, 401);
    // A second status within the collection interval is the same snapshot.
    let a = server.send(&signed_request(
        &signing,
        now(),
        &form("status", "C0OPS", "U0ALICE", &slack.url()),
    ));
    assert_eq!(a.status, 200);
    eprintln!(
        "status from the snapshot: answered in {} ms",
        a.took.as_millis()
    );
    let again = a.json();
    let collected = |v: &Value| {
        v["blocks"].as_array().unwrap().last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap()
            .split(" (")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(collected(&again), collected(&v));

    for (text, needle) in [
        ("posture", "*Posture* "),
        ("leases", "*Leases* "),
        ("usage", "*Entities* "),
        ("updates", "*Updates* not checked"),
    ] {
        let v = ask(&server, &signing, &slack, text);
        check_block_kit(&v).unwrap();
        let t = block_texts(&v);
        assert!(t.contains(needle), "{text}: {t}");
    }
    let help = ask(&server, &signing, &slack, "help");
    assert!(block_texts(&help).contains("`/vault posture`"));
    let unknown = ask(&server, &signing, &slack, "seal <!channel>");
    let t = block_texts(&unknown);
    assert!(
        t.contains("I do not know `seal`") && t.contains("`/vault usage`"),
        "{t}"
    );
    slack.assert_valid();

    // Forgeries and mistakes: bare refusals, no detail.
    let body = form("status", "C0OPS", "U0ALICE", &slack.url());
    let wrong = signed_request("not-the-signing-secret", now(), &body);
    let old = signed_request(&signing, now() - 301, &body);
    let future = signed_request(&signing, now() + 301, &body);
    let mut tampered = signed_request(&signing, now(), &body);
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    let unsigned = request("POST", &[], &body);
    for (what, req) in [
        ("wrong signature", wrong),
        ("old timestamp", old),
        ("future timestamp", future),
        ("tampered body", tampered),
        ("no signature", unsigned),
    ] {
        let a = server.send(&req);
        assert_eq!((what, a.status), (what, 401), "{a:?}");
        assert_eq!(a.body, "", "{what}: no detail");
    }
    let get = server.send(&request("GET", &[], b""));
    assert_eq!(get.status, 405);
    // Slack's certificate check of a new Request URL: 200, nothing done.
    let check = server.send(&request("POST", &[], b"ssl_check=1&token=x"));
    assert_eq!((check.status, check.body.as_str()), (200, ""));
    // Oversized, declared...
    let big = form(&"x".repeat(17 * 1024), "C0OPS", "U0ALICE", &slack.url());
    assert_eq!(
        server.send(&signed_request(&signing, now(), &big)).status,
        413
    );
    // ...and chunked without a length: cut off while reading.
    let ts = now().to_string();
    let mut chunked = format!(
        "POST /slack/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {}\r\n\r\n",
        slack_signature(&signing, &ts, &big)
    )
    .into_bytes();
    for c in big.chunks(4096) {
        chunked.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        chunked.extend_from_slice(c);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(server.send(&chunked).status, 413);
    // Genuine, but from elsewhere: 403.
    let other_channel = form("status", "C0RANDOM", "U0ALICE", &slack.url());
    assert_eq!(
        server
            .send(&signed_request(&signing, now(), &other_channel))
            .status,
        403
    );
    let other_user = form("status", "C0OPS", "U0MALLORY", &slack.url());
    assert_eq!(
        server
            .send(&signed_request(&signing, now(), &other_user))
            .status,
        403
    );
    let bob = form("help", "C0OPS", "U0BOB", &slack.url());
    assert_eq!(
        server.send(&signed_request(&signing, now(), &bob)).status,
        200
    );

    // An operator revokes every token the host's AppRole made: the next
    // collection logs in again instead of reporting "permission denied".
    bao.cli(&["token", "revoke", "-mode=path", "auth/approle/login"]);
    std::thread::sleep(Duration::from_secs(5));
    let v = ask(&server, &signing, &slack, "status");
    let t = block_texts(&v);
    assert!(t.contains("*This host's token* TTL"), "{t}");
    server.wait_log(
        "chat: the cached token was refused: logging in again",
        Duration::from_secs(1),
    );

    // The signing secret is rotated: the file is read again.
    let rotated = secret("signing-rotated");
    write_signing_secret(&secret_file, &rotated);
    let help = form("help", "C0OPS", "U0ALICE", &slack.url());
    assert_eq!(
        server.send(&signed_request(&signing, now(), &help)).status,
        401
    );
    assert_eq!(
        server.send(&signed_request(&rotated, now(), &help)).status,
        200
    );
    // Gone: nothing is accepted, not even with the last secret.
    std::fs::remove_file(&secret_file).unwrap();
    let a = server.send(&signed_request(&rotated, now(), &help));
    assert_eq!((a.status, a.body.as_str()), (503, ""));

    let log = server.log_text();
    for needle in [
        "chat: refused a request from 127.0.0.1",
        "the signature does not match the signing secret",
        "this signature was already used (a replay)",
    ] {
        assert_logged(&log, needle);
    }
    // The response_url is never logged.
    assert_not_logged(&log, &slack.path);

    // The token kept for reuse is revoked when the endpoint stops: none of
    // the logins above stays alive in Vault.
    assert!(
        bao.approle_leases() >= 1,
        "the control: a kept token is a lease"
    );
    let mut server = server;
    assert!(server.terminate().success());
    assert_eq!(
        bao.approle_leases(),
        0,
        "chat serve left AppRole tokens alive:\n{}",
        server.log_text()
    );
}

/// A TCP proxy in front of OpenBao that holds every chunk of every request for
/// `delay`: a slow Vault.
struct StallingProxy {
    port: u16,
}

impl StallingProxy {
    fn start(upstream: u16, delay: Duration) -> StallingProxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for client in l.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        std::thread::sleep(delay);
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        StallingProxy { port }
    }
}

#[test]
fn a_slow_vault_is_acknowledged_within_three_seconds_and_answered_at_the_response_url() {
    let bao = Bao::dev();
    let host = host_with_approle(&bao);
    let signing = secret("signing");
    write_signing_secret(&host.path("run/secrets/slack/signing-secret"), &signing);
    let proxy = StallingProxy::start(bao.port, Duration::from_millis(1200));
    let slack = Slack::up_now();
    let elsewhere = Slack::up_now();
    let port = free_port();
    let spec = chat_spec(
        &host,
        &format!("http://127.0.0.1:{}", proxy.port),
        port,
        json!({ "testResponseOrigin": format!("http://127.0.0.1:{}", slack.port) }),
    );
    let server = Server::start(&spec, port, &["chat", "serve"]);

    let a = server.send(&signed_request(
        &signing,
        now(),
        &form("status", "C0OPS", "U0ALICE", &slack.url()),
    ));
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.took < Duration::from_secs(3), "the ack took {:?}", a.took);
    let asked = Instant::now() - a.took;
    let ack = a.json();
    check_block_kit(&ack).unwrap();
    assert!(
        ack["text"]
            .as_str()
            .unwrap()
            .starts_with("Collecting the status of "),
        "{ack:#}"
    );
    assert_eq!(slack.payloads().len(), 0, "not before the answer is ready");
    // The full answer arrives at the response_url.
    let posted = slack.wait_for(1, 60);
    eprintln!(
        "slow Vault: acknowledged in {} ms, full answer posted {} ms after the command",
        a.took.as_millis(),
        asked.elapsed().as_millis()
    );
    slack.assert_valid();
    let full = &posted[0];
    assert_eq!(full["response_type"], "ephemeral");
    let t = block_texts(full);
    assert!(t.contains(":large_green_circle: unsealed"), "{t}");
    assert!(t.contains("*This host's token* TTL"), "{t}");

    // Three people ask for the updates at once: each is acknowledged and
    // answered, from one collection.
    let port = server.port;
    let asks: Vec<_> = (0..3)
        .map(|_| {
            let req = signed_request(
                &signing,
                now(),
                &form("updates", "C0OPS", "U0ALICE", &slack.url()),
            );
            std::thread::spawn(move || exchange(port, &req))
        })
        .collect();
    for a in asks {
        let a = a.join().unwrap();
        assert_eq!(a.status, 200);
        assert!(a.took < Duration::from_secs(3), "{:?}", a.took);
        assert!(a.body.contains("Collecting the updates"), "{}", a.body);
    }
    let posted = slack.wait_for(4, 60);
    for p in &posted[1..] {
        assert!(block_texts(p).contains("*Updates* not checked"), "{p:#}");
    }
    assert_eq!(
        server
            .log_text()
            .matches("chat: collected the updates")
            .count(),
        1,
        "one collection for three commands"
    );

    // A response_url that is not Slack's is never followed.
    let a = server.send(&signed_request(
        &signing,
        now(),
        &form("leases", "C0OPS", "U0ALICE", &elsewhere.url()),
    ));
    assert_eq!(a.status, 200);
    assert!(a.took < Duration::from_secs(3), "{:?}", a.took);
    assert!(
        a.json()["text"].as_str().unwrap().contains("is busy"),
        "{}",
        a.body
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(elsewhere.requests(), 0);
    server.wait_log("is not https://hooks.slack.com/", Duration::from_secs(1));
}

#[test]
fn a_flood_of_forged_requests_logs_a_bounded_number_of_lines() {
    let host = Host::new();
    let signing = secret("signing");
    write_signing_secret(&host.path("run/secrets/slack/signing-secret"), &signing);
    let port = free_port();
    // Vault is never asked: every request is refused before.
    let spec = chat_spec(&host, "http://127.0.0.1:9", port, json!({}));
    let server = Server::start(&spec, port, &["chat", "serve"]);
    let body = form(
        "status",
        "C0OPS",
        "U0ALICE",
        "https://hooks.slack.com/commands/T1/2/x",
    );
    let started = Instant::now();
    for i in 0..400u64 {
        let req = if i % 2 == 0 {
            signed_request("forged", now(), &body)
        } else {
            signed_request(&signing, now() - 3600, &body)
        };
        assert_eq!(server.send(&req).status, 401);
    }
    let flood = started.elapsed();
    // Still answering genuine requests.
    let help = form(
        "help",
        "C0OPS",
        "U0ALICE",
        "https://hooks.slack.com/commands/T1/2/x",
    );
    let a = server.send(&signed_request(&signing, now(), &help));
    assert_eq!(a.status, 200);
    let log = server.log_text();
    let refused = log.matches("chat: refused a request").count();
    assert!(
        flood > Duration::from_secs(60) || refused <= 5,
        "{refused} refusal lines for 400 requests in {flood:?}:\n{log}"
    );
    assert!(refused >= 1, "refusals are logged:\n{log}");
    assert!(log.lines().count() < 40, "{log}");

    // Connections that never send a request hold at most 64 slots, for at
    // most the 10 s header timeout; the others are closed at once.
    let mut idle: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let mut open = 0;
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut b = [0u8; 1];
        if let Err(e) = s.read(&mut b) {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                open += 1;
            }
        }
    }
    assert!(
        (32..=64).contains(&open),
        "{open} of 80 idle connections are held open"
    );
    // Once the header timeout has closed the idle ones, requests are served again.
    let freed = Instant::now();
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut b = Vec::new();
        let _ = s.read_to_end(&mut b);
    }
    assert!(
        freed.elapsed() < Duration::from_secs(13),
        "idle connections were closed after {:?}",
        freed.elapsed()
    );
    let help = form(
        "help",
        "C0OPS",
        "U0ALICE",
        "https://hooks.slack.com/commands/T1/2/y",
    );
    assert_eq!(
        server.send(&signed_request(&signing, now(), &help)).status,
        200
    );
}

#[test]
fn the_daemon_answers_commands_when_the_spec_has_a_chat_section() {
    let bao = Bao::dev();
    let host = host_with_approle(&bao);
    let signing = secret("signing");
    write_signing_secret(&host.path("run/secrets/slack/signing-secret"), &signing);
    let slack = Slack::up_now();
    let port = free_port();
    let spec = chat_spec(
        &host,
        &bao.addr,
        port,
        json!({ "testResponseOrigin": format!("http://127.0.0.1:{}", slack.port), "responseType": "in_channel" }),
    );
    let server = Server::start(&spec, port, &["run"]);
    let v = ask(&server, &signing, &slack, "status");
    assert_eq!(v["response_type"], "in_channel");
    assert!(block_texts(&v).contains(":large_green_circle: unsealed"));

    // A reload that changes the section restarts the endpoint alone.
    chat_spec(
        &host,
        &bao.addr,
        port,
        json!({ "testResponseOrigin": format!("http://127.0.0.1:{}", slack.port), "allowedUsers": ["U0BOB"] }),
    );
    server.hangup();
    server.wait_log(
        "the chat section changed: restarting the Slack command endpoint",
        Duration::from_secs(20),
    );
    server.wait_log_count(
        "chat: answering Slack commands on",
        2,
        Duration::from_secs(20),
    );
    let alice = form("help", "C0OPS", "U0ALICE", &slack.url());
    assert_eq!(
        server.send(&signed_request(&signing, now(), &alice)).status,
        403
    );
    let bob = form("help", "C0OPS", "U0BOB", &slack.url());
    let a = server.send(&signed_request(&signing, now(), &bob));
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["response_type"], "ephemeral");
    // A reload that leaves the section alone keeps it running.
    let reloads = server.log_text().matches("reloading the spec").count();
    server.hangup();
    server.wait_log_count("reloading the spec", reloads + 1, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server
            .log_text()
            .matches("chat: answering Slack commands on")
            .count(),
        2
    );
    let bob = form("help", "C0OPS", "U0BOB", &slack.url());
    assert_eq!(
        server.send(&signed_request(&signing, now(), &bob)).status,
        200
    );
}

#[test]
fn chat_serve_needs_its_section_and_a_free_address() {
    let host = Host::new();
    let spec = host.write_spec(&host.spec("http://127.0.0.1:9", json!({})));
    let r = support::run::vaultkeeper(&["--spec", spec.to_str().unwrap(), "chat", "serve"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_logged(&r.stderr, "the spec has no chat section");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let spec = chat_spec(&host, "http://127.0.0.1:9", port, json!({}));
    let r = support::run::vaultkeeper(&["--spec", spec.to_str().unwrap(), "chat", "serve"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_logged(
        &r.stderr,
        &format!("cannot listen on 127.0.0.1:{port} for Slack commands"),
    );
    let mut bad = host.spec("http://127.0.0.1:9", json!({}));
    bad["chat"] = json!({ "listen": "127.0.0.1:1", "signingSecretFile": "/s", "testResponseOrigin": "http://10.1.1.1:80" });
    let spec = host.write_spec(&bad);
    let r = support::run::vaultkeeper(&["--spec", spec.to_str().unwrap(), "check"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_logged(&r.stderr, "chat.testResponseOrigin");
}

#[test]
fn a_sealed_vault_is_answered_as_sealed() {
    let bao = Bao::file_storage();
    let host = host_with_approle(&bao);
    let signing = secret("signing");
    write_signing_secret(&host.path("run/secrets/slack/signing-secret"), &signing);
    let slack = Slack::up_now();
    let port = free_port();
    let spec = chat_spec(
        &host,
        &bao.addr,
        port,
        json!({ "testResponseOrigin": format!("http://127.0.0.1:{}", slack.port) }),
    );
    let server = Server::start(&spec, port, &["chat", "serve"]);
    let v = ask(&server, &signing, &slack, "status");
    assert!(block_texts(&v).contains(":large_green_circle: unsealed"));
    bao.seal();
    // The status snapshot is younger than collectionInterval, but the seal
    // state changed: it is collected again.
    let s = ask(&server, &signing, &slack, "status");
    let t = block_texts(&s);
    assert!(t.contains(":red_circle: *SEALED*"), "{t}");
    assert_eq!(
        s["text"],
        format!("Vault status for {}: SEALED", hostname())
    );
    server.wait_log(
        "chat: the server is sealed now: collecting again",
        Duration::from_secs(1),
    );
    let p = ask(&server, &signing, &slack, "posture");
    let t = block_texts(&p);
    assert!(
        t.contains(":warning: *Nothing collected* from") && t.contains("is SEALED"),
        "{t}"
    );
    let l = ask(&server, &signing, &slack, "leases");
    assert!(block_texts(&l).contains("is SEALED"));
    slack.assert_valid();
}
