//! Safe on disk: no configuration, crash, full disk or second writer can
//! destroy data or leave a secret missing. Each test reproduces a failure the
//! released binary had (see docs/explanation/security-model.md, "What
//! vaultkeeper will never do to your file system").
#![allow(unreachable_pub)] // helpers are `pub` for sibling test modules: this crate has no API

mod support;

use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use support::bao::Bao;
use support::logged::assert_logged;
use support::run::{secret, vaultkeeper, Run};
use support::spec::{dev_host, files, write_private, Host};

fn fetch(spec: &Path, names: &[&str]) -> Run {
    let mut args = vec!["--spec", spec.to_str().unwrap(), "fetch"];
    args.extend_from_slice(names);
    vaultkeeper(&args, &[])
}

fn check(spec: &Path) -> Run {
    vaultkeeper(&["check", "--spec", spec.to_str().unwrap()], &[])
}

#[test]
fn check_refuses_system_state_and_nested_output_dirs_with_exit_2() {
    let host = Host::new();
    let state = host.state_dir();
    let cases = [
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/etc"}}),
            "secrets.a.outputDir: \"/etc\" is /etc, which the system owns",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/usr"}}),
            "\"/usr\" is /usr",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/root"}}),
            "\"/root\" is /root",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": "/var/lib/grafana"}}),
            "\"/var/lib/grafana\" is a directory of its own in /var/lib",
            "system-directory",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": state.join("approle")}}),
            "is inside stateDir",
            "inside-state-dir",
        ),
        (
            json!({"a": {"secretPath": "x/a", "outputDir": host.out("a")}, "b": {"secretPath": "x/b", "outputDir": host.out("a").join("b")}}),
            "contains secrets.b.outputDir",
            "nested",
        ),
        (
            json!({"a": {"secretPath": "x/a", "mode": "4555"}}),
            "secrets.a.mode: \"4555\" sets the setuid bit",
            "permission-bits-only",
        ),
        (
            json!({"a": {"secretPath": "x/a", "mode": "6550"}}),
            "sets the setuid and setgid bit",
            "permission-bits-only",
        ),
        (
            json!({"a": {"secretPath": "x/a", "mode": "1400"}}),
            "sets the sticky bit",
            "permission-bits-only",
        ),
    ];
    for (secrets, message, rule) in cases {
        let spec = host.write_spec(&host.spec("https://vault.example:8200", secrets.clone()));
        let r = check(&spec);
        assert_eq!(r.code, 2, "{secrets}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{secrets}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("[rule: {rule}]")),
            "{secrets}: {}",
            r.stderr
        );
        // fetch and the daemon load the spec the same way: refused before any write.
        let r = fetch(&spec, &[]);
        assert_eq!(r.code, 2, "{secrets}: {}", r.stderr);
    }
    // An execute bit is allowed, with a warning.
    let spec = host.write_spec(&host.spec(
        "https://vault.example:8200",
        json!({"a": {"secretPath": "x/a", "mode": "0500"}}),
    ));
    let r = check(&spec);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("WARN")
            && r.stderr
                .contains("secrets.a.mode: mode 0500 makes the secret's files executable"),
        "{}",
        r.stderr
    );
}

#[test]
fn fetch_refuses_credential_files_that_are_symlinks_fifos_shared_or_foreign() {
    let (bao, host) = dev_host("d1");
    bao.kv_put("hosts/d1/app", &json!({ "pw": secret("pw") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d1/app" } }),
    ));
    let sid = host.path("state/approle/secret-id");
    let good = std::fs::read_to_string(&sid).unwrap();
    assert_eq!(fetch(&spec, &[]).code, 0);

    // A symlink to another file (before: the whole target was sent to Vault as secret_id).
    let elsewhere = host.path("elsewhere");
    write_private(&elsewhere, &good);
    std::fs::remove_file(&sid).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &sid).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_logged(
        &r.stderr,
        &format!(
            "AppRole secret-id at {} is refused: it is a symlink",
            sid.display()
        ),
    );

    // Group- or world-readable/writable.
    std::fs::remove_file(&sid).unwrap();
    write_private(&sid, &good);
    for mode in [0o640, 0o604, 0o620] {
        std::fs::set_permissions(&sid, std::fs::Permissions::from_mode(mode)).unwrap();
        let r = fetch(&spec, &[]);
        assert_eq!(r.code, 3, "{mode:o}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("run `chmod 600 {}`", sid.display())),
            "{}",
            r.stderr
        );
    }
    std::fs::set_permissions(&sid, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Owned by another user.
    nix::unistd::chown(&sid, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_logged(&r.stderr, "is owned by uid 65534");
    nix::unistd::chown(&sid, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();

    // A FIFO: refused at once, not waited on.
    std::fs::remove_file(&sid).unwrap();
    nix::unistd::mkfifo(&sid, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let started = Instant::now();
    let r = fetch(&spec, &[]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("it is a FIFO (named pipe), not a regular file"),
        "{}",
        r.stderr
    );

    // Too large.
    std::fs::remove_file(&sid).unwrap();
    write_private(&sid, &"x".repeat(5000));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_logged(&r.stderr, "more than the 4096 bytes");

    // Back to a good file: works again.
    write_private(&sid, &good);
    assert_eq!(fetch(&spec, &[]).code, 0);
}

#[test]
fn an_output_dir_under_a_world_writable_parent_is_refused() {
    let (bao, host) = dev_host("d2");
    bao.kv_put("hosts/d2/app", &json!({ "pw": secret("pw") }));
    let parent = host.path("shared");
    std::fs::create_dir(&parent).unwrap();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d2/app", "outputDir": parent.join("app") } }),
    ));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("[rule: parent-writable]")
            && r.stderr
                .contains(&format!("chmod go-w {}", parent.display())),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_dir(&parent).unwrap().count(),
        0,
        "nothing written there"
    );
    // With the sticky bit (like /tmp) it is fine.
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&parent.join("app")).len(), 1);
}

/// The heavy tests (hundreds of processes each) run one at a time, so each
/// measures itself rather than its neighbours.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes a KV v2 secret over the HTTP API (one request, no CLI start-up): the
/// concurrency tests change a secret every few milliseconds.
fn kv_put_fast(bao: &Bao, path: &str, data: &serde_json::Value) {
    use std::io::{Read, Write};
    let body = json!({ "data": data }).to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", bao.port)).unwrap();
    write!(
        s,
        "POST /v1/secret/data/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        bao.token,
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.1 204"),
        "{}",
        resp.lines().next().unwrap_or_default()
    );
}

/// What readers of an outputDir saw.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    checks: u64,
    /// Nothing at outputDir.
    missing: u64,
    /// outputDir is a symlink to a generation that no longer exists.
    dangling: u64,
    /// Keys of one opened generation from different versions, or a partial file.
    mixed: u64,
    /// The generation was opened, then removed before its files were read (a
    /// reader slower than two renders; not a dangling outputDir).
    removed_under_reader: u64,
}

/// One reader: opens outputDir once, then reads keys `a` and `b` relative to it;
/// both must hold the same complete version.
fn look(out: &Path, seen: &mut Seen) {
    use nix::fcntl::{openat, OFlag};
    seen.checks += 1;
    if std::fs::symlink_metadata(out).is_err() {
        seen.missing += 1;
        return;
    }
    let dir = match std::fs::File::open(out) {
        Ok(d) => d,
        Err(_) => {
            seen.dangling += 1;
            return;
        }
    };
    let read = |key: &str| -> Option<String> {
        let fd = openat(
            &dir,
            key,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ok()?;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(fd), &mut s).ok()?;
        Some(s)
    };
    match (read("a"), read("b")) {
        (Some(a), Some(b)) => {
            if a != b || !a.ends_with(";end") {
                seen.mixed += 1;
            }
        }
        _ => seen.removed_under_reader += 1,
    }
}

/// A version of the two-key test secret: both keys the same complete value.
fn version(base: &str, i: usize) -> serde_json::Value {
    let v = format!("{base}-{i};end");
    json!({ "a": v, "b": v })
}

/// Generations, link temporaries and status/cache temporaries of one secret.
#[derive(Debug, Default, PartialEq, Eq)]
struct Debris {
    generations: usize,
    link_temps: usize,
    staged_cache: usize,
    status_temps: usize,
}

fn debris(host: &Host, name: &str) -> Debris {
    let count = |dir: &Path, pred: &dyn Fn(&str) -> bool| -> usize {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter(|e| pred(&e.as_ref().unwrap().file_name().to_string_lossy()))
                    .count()
            })
            .unwrap_or(0)
    };
    let out = host.out(name);
    let parent = out.parent().unwrap();
    Debris {
        generations: count(&parent.join(format!(".{name}.vaultkeeper")), &|n| {
            n.starts_with('g')
        }),
        link_temps: count(parent, &|n| {
            n.starts_with(&format!(".{name}.vaultkeeper.link-"))
        }),
        staged_cache: count(&host.state_dir().join("cache").join(name), &|n| {
            n != "data.json"
        }),
        status_temps: count(&host.state_dir().join("status"), &|n| {
            n.starts_with(&format!(".{name}.json.tmp-"))
        }),
    }
}

#[test]
fn a_directory_vaultkeeper_did_not_write_is_kept_with_every_byte() {
    let (bao, host) = dev_host("d3");
    let v = secret("pw");
    bao.kv_put("hosts/d3/app", &json!({ "pw": v }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d3/app" } }),
    ));
    // The seed's vault-fetch output, as during a migration: a file and a subdirectory.
    let out = host.out("app");
    std::fs::create_dir_all(out.join("tls/old")).unwrap();
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(out.join("pw"), &blob).unwrap();
    std::fs::write(out.join("tls/old/key.pem"), "KEY").unwrap();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&out)["pw"], v);
    let aside: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".app.vaultkeeper.aside-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(aside[0].join("pw")).unwrap(),
        blob,
        "every byte is still on disk"
    );
    assert_eq!(
        std::fs::read_to_string(aside[0].join("tls/old/key.pem")).unwrap(),
        "KEY"
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&aside[0]).unwrap().mode() & 0o7777, 0o700);
    assert!(
        r.stderr.contains("WARN")
            && r.stderr.contains("it was NOT deleted: it is kept at")
            && r.stderr.contains(&*aside[0].to_string_lossy()),
        "{}",
        r.stderr
    );
}

#[test]
fn a_second_writer_waits_for_the_lock_then_fails_clearly() {
    let (bao, host) = dev_host("d4");
    bao.kv_put("hosts/d4/app", &json!({ "pw": secret("pw") }));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d4/app" } }),
    ));
    // The templates and the daemon take the same lock through this API.
    let held =
        vaultkeeper::SecretLock::acquire_in(&host.state_dir(), "app", Duration::ZERO).unwrap();
    let started = Instant::now();
    let r = vaultkeeper(
        &[
            "--spec",
            spec.to_str().unwrap(),
            "fetch",
            "--lock-timeout",
            "1s",
        ],
        &[],
    );
    assert!(started.elapsed() >= Duration::from_secs(1), "it waited");
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(
        r.stderr.contains("secret app: another vaultkeeper process")
            && r.stderr.contains("locks/app.lock"),
        "{}",
        r.stderr
    );
    assert!(
        !host.out("app").exists(),
        "nothing written without the lock"
    );
    // A waiter gets it as soon as the holder lets go.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        drop(held);
    });
    let r = fetch(&spec, &[]);
    releaser.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(host.out("app").join("pw").exists());
}

#[test]
fn two_fetches_at_once_200_times_never_leave_a_dangling_output_dir() {
    let _one_at_a_time = heavy();
    let (bao, host) = dev_host("d5");
    let base = secret("two");
    kv_put_fast(&bao, "hosts/d5/app", &version(&base, 0));
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d5/app" } }),
    ));
    assert_eq!(fetch(&spec, &[]).code, 0);
    let out = host.out("app");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut seen, mut after_each) = (Seen::default(), Seen::default());
    let mut max_generations = 0;
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = Seen::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                look(&out, &mut seen);
                std::thread::sleep(Duration::from_micros(500));
            }
            seen
        });
        for i in 1..=200 {
            kv_put_fast(&bao, "hosts/d5/app", &version(&base, i));
            let (r1, r2) = std::thread::scope(|s2| {
                let a = s2.spawn(|| fetch(&spec, &[]));
                let b = s2.spawn(|| fetch(&spec, &[]));
                (a.join().unwrap(), b.join().unwrap())
            });
            assert_eq!((r1.code, r2.code), (0, 0), "{}\n{}", r1.stderr, r2.stderr);
            look(&out, &mut after_each);
            assert_eq!(
                files(&out)["a"],
                format!("{base}-{i};end"),
                "the newest version is published"
            );
            max_generations = max_generations.max(debris(&host, "app").generations);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        seen = reader.join().unwrap();
    });
    println!(
        "two fetches x200: reader {} checks: {} missing, {} dangling, {} mixed, {} removed under a slow reader; after each pair {} checks: {} missing, {} dangling, {} mixed; at most {} generations on disk",
        seen.checks, seen.missing, seen.dangling, seen.mixed, seen.removed_under_reader,
        after_each.checks, after_each.missing, after_each.dangling, after_each.mixed, max_generations
    );
    assert!(seen.checks > 200, "the reader ran: {seen:?}");
    assert_eq!(
        (seen.missing, seen.dangling, seen.mixed),
        (0, 0, 0),
        "{seen:?}"
    );
    assert_eq!(
        (
            after_each.missing,
            after_each.dangling,
            after_each.mixed,
            after_each.removed_under_reader
        ),
        (0, 0, 0, 0)
    );
    assert!(max_generations <= 2, "{max_generations}");
}

#[test]
fn fetch_beside_a_running_daemon_with_a_secret_changing_every_50ms() {
    let _one_at_a_time = heavy();
    let (bao, host) = dev_host("d6");
    let base = secret("daemon");
    kv_put_fast(&bao, "hosts/d6/app", &version(&base, 0));
    let mut spec_json = host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d6/app", "refreshInterval": "1s" } }),
    );
    spec_json["refreshInterval"] = json!("1s");
    let spec = host.write_spec(&spec_json);
    assert_eq!(fetch(&spec, &[]).code, 0);
    let log_path = host.path("daemon.log");
    let mut daemon = std::process::Command::new(support::run::bin())
        .args(["--spec", spec.to_str().unwrap(), "run"])
        .env("VAULTKEEPER_LOG", "info")
        .env_remove("NOTIFY_SOCKET")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let out = host.out("app");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut seen = Seen::default();
    let (mut fetches, mut changes) = (0, 0);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = Seen::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                look(&out, &mut seen);
                std::thread::sleep(Duration::from_micros(500));
            }
            seen
        });
        let writer = s.spawn(|| {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                kv_put_fast(&bao, "hosts/d6/app", &version(&base, i));
                std::thread::sleep(Duration::from_millis(50));
            }
            i
        });
        let until = Instant::now() + Duration::from_secs(12);
        while Instant::now() < until {
            let r = fetch(&spec, &[]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            fetches += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        changes = writer.join().unwrap();
        seen = reader.join().unwrap();
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = daemon.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    support::run::keep_log("daemon", &log);
    support::run::assert_no_secret_in(&log, "the daemon's log");
    let daemon_renders = log.matches("changed from Vault").count();
    println!(
        "fetch beside the daemon: {changes} changes (every 50 ms), {fetches} fetch runs, {daemon_renders} daemon renders; reader {} checks: {} missing, {} dangling, {} mixed, {} removed under a slow reader; {} generations on disk at the end",
        seen.checks, seen.missing, seen.dangling, seen.mixed, seen.removed_under_reader, debris(&host, "app").generations
    );
    assert!(status.success(), "{log}");
    assert!(
        daemon_renders > 0 && fetches > 5 && seen.checks > 100,
        "both writers ran: {log}"
    );
    assert_eq!(
        (seen.missing, seen.dangling, seen.mixed),
        (0, 0, 0),
        "{seen:?}"
    );
    assert!(debris(&host, "app").generations <= 2);
    look(&out, &mut seen);
    assert_eq!(seen.mixed + seen.dangling + seen.missing, 0);
}

#[test]
fn kill_9_at_200_random_points_then_one_clean_fetch_leaves_no_debris() {
    let _one_at_a_time = heavy();
    let (bao, host) = dev_host("d7");
    let base = secret("kill");
    let names = ["a", "b", "c"];
    for n in names {
        kv_put_fast(&bao, &format!("hosts/d7/{n}"), &version(&base, 0));
    }
    let secrets: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                json!({ "secretPath": format!("hosts/d7/{n}") }),
            )
        })
        .collect();
    let spec = host.write_spec(&host.spec(&bao.addr, serde_json::Value::Object(secrets)));
    let started = Instant::now();
    assert_eq!(fetch(&spec, &[]).code, 0);
    let clean_run = started.elapsed();
    let (mut finished, mut killed) = (0, 0);
    let mut estimate = clean_run;
    for i in 1..=200 {
        // Something changes every time, so every run renders and caches.
        kv_put_fast(
            &bao,
            &format!("hosts/d7/{}", names[i % 3]),
            &version(&base, i),
        );
        let mut child = std::process::Command::new(support::run::bin())
            .args(["--spec", spec.to_str().unwrap(), "fetch"])
            .env("VAULTKEEPER_LOG", "error")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // A random point of a run; the estimate of a run's length follows the
        // machine's load (a run that finished first shortens it).
        std::thread::sleep(estimate.mul_f64(rand_fraction() * 1.2));
        if child.try_wait().unwrap().is_some() {
            finished += 1;
            estimate = estimate.mul_f64(0.8);
        } else {
            killed += 1;
            estimate = estimate.mul_f64(1.05);
        }
        let _ = child.kill();
        child.wait().unwrap();
    }
    let before: Vec<Debris> = names.iter().map(|n| debris(&host, n)).collect();
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after: Vec<Debris> = names.iter().map(|n| debris(&host, n)).collect();
    let sum = |v: &[Debris], f: fn(&Debris) -> usize| v.iter().map(f).sum::<usize>();
    println!(
        "kill -9 x200 ({killed} killed mid-run, {finished} had finished; a clean run takes {clean_run:?}): before the clean fetch {} generations, {} link temporaries, {} staged/temporary cache files, {} status temporaries; after: {} generations (3 secrets), {} link temporaries, {} staged cache files, {} status temporaries",
        sum(&before, |d| d.generations), sum(&before, |d| d.link_temps), sum(&before, |d| d.staged_cache), sum(&before, |d| d.status_temps),
        sum(&after, |d| d.generations), sum(&after, |d| d.link_temps), sum(&after, |d| d.staged_cache), sum(&after, |d| d.status_temps),
    );
    assert!(killed >= 80, "most runs were killed mid-way ({killed})");
    for (n, d) in names.iter().zip(&after) {
        assert!(d.generations <= 2, "{n}: {d:?}");
        assert_eq!(
            (d.link_temps, d.staged_cache, d.status_temps),
            (0, 0, 0),
            "{n}: {d:?}"
        );
        let mut seen = Seen::default();
        look(&host.out(n), &mut seen);
        assert_eq!((seen.missing, seen.dangling, seen.mixed), (0, 0, 0), "{n}");
    }
    assert_eq!(files(&host.out("a"))["a"], format!("{base}-198;end"));
}

fn rand_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() % 10_000) as f64 / 10_000.0
}

/// A tmpfs of `size` mounted at `dir` for one test (the suite runs as root).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("the full-disk tests need mount(8) and root: run the suite as root (scripts/test.sh)");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs at {} (the suite runs as root): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_output_file_system_keeps_the_previous_version_and_recovers() {
    let (bao, host) = dev_host("d8");
    let small = host.path("small");
    let _fs = Tmpfs::mount(&small, "256k");
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d8/app", "outputDir": small.join("app") } }),
    ));
    let v1 = secret("v1");
    bao.kv_put("hosts/d8/app", &json!({ "pw": v1 }));
    assert_eq!(fetch(&spec, &[]).code, 0);
    // Larger than the file system.
    let big = format!("{}{}", secret("big"), "x".repeat(400 * 1024));
    kv_put_fast(&bao, "hosts/d8/app", &json!({ "pw": big }));
    for _ in 0..3 {
        let r = fetch(&spec, &[]);
        assert_eq!(r.code, 7, "{}", r.stderr);
        assert!(
            r.stderr.contains("no space left on the file system of")
                && r.stderr.contains("the previous version is still published"),
            "{}",
            r.stderr
        );
        assert_eq!(
            files(&small.join("app"))["pw"],
            v1,
            "the previous version is intact"
        );
        let gens: Vec<_> = std::fs::read_dir(small.join(".app.vaultkeeper"))
            .unwrap()
            .collect();
        assert_eq!(gens.len(), 1, "no partial generation is left behind");
    }
    // The value shrinks to 8 bytes: the next fetch succeeds.
    let v2 = secret("s")[..8].to_string();
    support::run::register_secret(&v2);
    bao.kv_put("hosts/d8/app", &json!({ "pw": v2 }));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files(&small.join("app"))["pw"], v2);
}

#[test]
fn a_full_cache_file_system_leaves_no_staged_file() {
    let (bao, host) = dev_host("d9");
    let small = host.path("smallcache");
    let _fs = Tmpfs::mount(&small, "128k");
    let spec = host.write_spec(&host.spec(
        &bao.addr,
        json!({ "app": { "secretPath": "hosts/d9/app", "cacheDir": small.join("app") } }),
    ));
    let v1 = secret("v1");
    bao.kv_put("hosts/d9/app", &json!({ "pw": v1 }));
    assert_eq!(fetch(&spec, &[]).code, 0);
    let big = format!("{}{}", secret("big"), "y".repeat(300 * 1024));
    kv_put_fast(&bao, "hosts/d9/app", &json!({ "pw": big }));
    let r = fetch(&spec, &[]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert_logged(&r.stderr, "cache of secret app");
    let names: Vec<String> = std::fs::read_dir(small.join("app"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["data.json"],
        "no staged file holding part of a secret"
    );
    let cached = std::fs::read_to_string(small.join("app/data.json")).unwrap();
    assert!(cached.contains(&v1), "the previous cache is intact");
}
