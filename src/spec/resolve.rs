//! The whole spec resolved: each section by its own file, then the checks
//! that look across sections (paths, the digest's webhook).

use super::approle::resolve_approle;
use super::error::Problem;
use super::fields::{dir_path, duration};
use super::model::{Spec, DEFAULT_STATE_DIR};
use super::raw::RawSpec;
use super::secret::resolve_secret;
use super::vault::resolve_vault;
use super::{insights, metrics};
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) fn resolve(raw: RawSpec, problems: &mut Vec<Problem>) -> Spec {
    let vault = resolve_vault(raw.vault, problems);

    let state_dir = dir_path(
        problems,
        "stateDir",
        raw.state_dir.as_deref().unwrap_or(DEFAULT_STATE_DIR),
    );
    super::path_rules::check_state_dir(&state_dir, problems);

    let approle = resolve_approle(raw.approle, &state_dir, problems);

    let refresh_interval = duration(
        problems,
        "refreshInterval",
        raw.refresh_interval.as_deref(),
        Duration::from_secs(300),
    );
    if refresh_interval < Duration::from_secs(1) {
        problems.push(Problem::new(
            "refreshInterval",
            "must be at least one second, e.g. \"5m\"",
        ));
    }
    let restart_randomized_delay = duration(
        problems,
        "restartRandomizedDelay",
        raw.restart_randomized_delay.as_deref(),
        Duration::from_secs(3600),
    );
    let boot_cache_max_age = super::boot_cache::boot_cache_max_age(
        problems,
        "bootCacheMaxAge",
        raw.boot_cache_max_age.as_deref(),
        super::boot_cache::DEFAULT_BOOT_CACHE_MAX_AGE,
    );

    let mut secrets = BTreeMap::new();
    for (name, s) in raw.secrets {
        let secret = resolve_secret(
            &name,
            s,
            &state_dir,
            (refresh_interval, boot_cache_max_age),
            restart_randomized_delay,
            problems,
        );
        secrets.insert(name, secret);
    }
    super::path_rules::check_spec_paths(&state_dir, &approle, &secrets, problems);
    let templates = super::template::resolve(raw.templates, &secrets, &state_dir, problems);

    for (i, c) in raw.critical_services.iter().enumerate() {
        if c.is_empty() || c.contains('/') || c.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                format!("criticalServices[{i}]"),
                format!("{c:?} is not a unit name"),
            ));
        }
    }

    let audit = raw.audit.map(|a| super::audit::resolve(a, true, problems));
    let insights = insights::resolve(raw.insights, problems);
    let metrics = metrics::resolve(raw.metrics, problems);
    if insights.digest.is_some()
        && insights.slack.is_none()
        && audit.as_ref().is_none_or(|a| a.slack.is_none())
    {
        problems.push(Problem::new(
            "insights.digest",
            "a digest is posted to Slack, and no webhook is set: add insights.slack.webhookUrlFile (or audit.slack.webhookUrlFile, which digests share), or set the digest to \"off\"",
        ));
    }

    Spec {
        vault,
        approle,
        state_dir,
        refresh_interval,
        boot_cache_max_age,
        restart_randomized_delay,
        secrets,
        templates,
        critical_services: raw.critical_services,
        audit,
        insights,
        metrics,
        chat: raw.chat.map(|c| super::chat::resolve(c, problems)),
    }
}
