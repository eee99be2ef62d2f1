//! One `secrets.<name>` entry resolved: its KV path and mount, where it is
//! written and cached, owner, group, mode, services and intervals.

use super::error::Problem;
use super::fields::{check_account, check_secret_name, dir_path, duration, parse_on_change};
use super::model::{KvVersion, SecretSpec, DEFAULT_SECRETS_DIR};
use super::raw::RawSecret;
use super::{interval, mode};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) fn resolve_secret(
    name: &str,
    s: RawSecret,
    state_dir: &Path,
    (refresh_default, boot_cache_default): (Duration, Duration),
    delay_default: Duration,
    problems: &mut Vec<Problem>,
) -> SecretSpec {
    let at = |key: &str| format!("secrets.{name}.{key}");
    if let Err(m) = check_secret_name(name) {
        problems.push(Problem::new(format!("secrets.{name}"), m));
    }
    let secret_path = s.secret_path.trim_matches('/').to_string();
    if secret_path.is_empty()
        || secret_path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        problems.push(Problem::new(at("secretPath"), format!("{:?} is not a KV path; write e.g. \"hosts/web01/nginx\" (no leading mount, no empty or '..' segments)", s.secret_path)));
    }
    let kv_mount = s
        .kv_mount
        .unwrap_or_else(|| "secret".into())
        .trim_matches('/')
        .to_string();
    if kv_mount.is_empty() {
        problems.push(Problem::new(
            at("kvMount"),
            "must name the KV mount, e.g. \"secret\"",
        ));
    }
    let kv_version = match s.kv_version.unwrap_or(2) {
        1 => KvVersion::V1,
        2 => KvVersion::V2,
        v => {
            problems.push(Problem::new(
                at("kvVersion"),
                format!("{v} is not a KV version; write 1 or 2"),
            ));
            KvVersion::V2
        }
    };
    let output_dir = match s.output_dir {
        Some(d) => dir_path(problems, &at("outputDir"), &d),
        None => PathBuf::from(DEFAULT_SECRETS_DIR).join(name),
    };
    let cache_dir = match s.cache_dir {
        Some(d) => dir_path(problems, &at("cacheDir"), &d),
        None => state_dir.join("cache").join(name),
    };
    let owner = s.owner.unwrap_or_else(|| "root".into());
    check_account(problems, &at("owner"), &owner);
    let group = s.group.unwrap_or_else(|| "root".into());
    check_account(problems, &at("group"), &group);
    let mode = match s.mode.as_deref() {
        None => 0o400,
        Some(m) => mode::parse_mode(m).unwrap_or_else(|msg| {
            problems.push(Problem::new(at("mode"), msg));
            0o400
        }),
    };
    if mode & 0o222 != 0 {
        problems.push(Problem::new(
            at("mode"),
            format!(
                "{:04o} lets someone write the secret file; secrets are read-only, e.g. \"0400\"",
                mode
            ),
        ));
    }
    for (i, svc) in s.services.iter().enumerate() {
        if svc.is_empty() || svc.contains('/') || svc.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                format!("secrets.{name}.services[{i}]"),
                format!("{svc:?} is not a unit name"),
            ));
        }
    }
    let restart_interval = match s.restart_interval.as_deref() {
        None => Duration::from_secs(86400),
        Some(v) => interval::parse_restart_interval(v).unwrap_or_else(|m| {
            problems.push(Problem::new(at("restartInterval"), m));
            Duration::from_secs(86400)
        }),
    };
    let refresh_interval = duration(
        problems,
        &at("refreshInterval"),
        s.refresh_interval.as_deref(),
        refresh_default,
    );
    if refresh_interval < Duration::from_secs(1) {
        problems.push(Problem::new(
            at("refreshInterval"),
            "must be at least one second, e.g. \"5m\"",
        ));
    }
    let boot_cache_max_age = super::boot_cache::boot_cache_max_age(
        problems,
        &at("bootCacheMaxAge"),
        s.boot_cache_max_age.as_deref(),
        boot_cache_default,
    );
    let on_change = parse_on_change(problems, &at("onChange"), s.on_change.as_deref());
    let restart_randomized_delay = duration(
        problems,
        &at("restartRandomizedDelay"),
        s.restart_randomized_delay.as_deref(),
        delay_default,
    );
    SecretSpec {
        name: name.to_string(),
        secret_path,
        kv_mount,
        kv_version,
        output_dir,
        cache_dir,
        owner,
        group,
        mode,
        services: s.services,
        restart_trigger: s.restart_trigger,
        restart_interval,
        refresh_interval,
        boot_cache_max_age,
        on_change,
        restart_randomized_delay,
    }
}
