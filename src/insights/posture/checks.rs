//! The posture checks and [`run_all`]. Each reads what it needs, never writes,
//! and turns a denied read into "not assessed". This file: audit devices,
//! TLS, HA and the server's age; the others are in `auth_checks.rs` and
//! `mount_checks.rs`.

use super::auth_checks::{approle_roles, policies, root_tokens};
use super::finding::Finding;
use super::mount_checks::{kv_versions, lease_ttls};
use super::thresholds::{CERT_WARN_DAYS, DAY, VERSION_FAIL_DAYS, VERSION_WARN_DAYS};
use super::tls;

use crate::clock::{parse_rfc3339_secs, rfc3339_secs};
use crate::insights::reads::{data, not_assessed};
use crate::insights::status::{self, Server};
use crate::vault::VaultClient;

use std::time::Duration;

pub(crate) struct Ctx<'a> {
    pub client: &'a VaultClient,
    pub server: &'a Server,
    pub timeout: Duration,
    pub now: u64,
}

/// Runs every check (concurrently) in a fixed order.
pub(crate) async fn run_all(ctx: &Ctx<'_>) -> Vec<Finding> {
    let c = ctx.client;
    let (auths, mounts) = futures::join!(c.read("sys/auth"), c.read("sys/mounts"));
    let auths = auths
        .map(|v| data(&v).clone())
        .map_err(|e| not_assessed(&e));
    let mounts = mounts
        .map(|v| data(&v).clone())
        .map_err(|e| not_assessed(&e));
    let (audit, tls, roots, ttls, approle, kv, pol, ha) = futures::join!(
        audit(c),
        tls_checks(ctx),
        root_tokens(c),
        lease_ttls(c, &mounts),
        approle_roles(c, &auths),
        kv_versions(c, &mounts),
        policies(c),
        ha(c, ctx.server),
    );
    let mut out = Vec::new();
    out.extend(audit);
    out.extend(tls);
    out.push(roots);
    out.push(ttls);
    out.push(approle);
    out.push(kv);
    out.push(pol);
    out.push(ha);
    out.push(version_age(ctx.server, ctx.now));
    out
}

/// `audit_devices` (15): at least one; `audit_redundancy` (5): more than one, and
/// a file device beside any socket device.
pub(crate) async fn audit(c: &VaultClient) -> [Finding; 2] {
    let one = Finding::new("audit_devices", "At least one audit device", 15);
    let two = Finding::new(
        "audit_redundancy",
        "More than one audit device, a file device beside any socket",
        5,
    );
    let devices = match status::audit_devices(c).await {
        Ok(d) => d,
        Err(r) => return [one.not_assessed(r.clone()), two.not_assessed(r)],
    };
    let list: Vec<String> = devices
        .iter()
        .map(|d| format!("{} ({})", d.path, d.kind))
        .collect();
    let seen = if list.is_empty() {
        "no audit device is enabled".to_string()
    } else {
        format!("{} audit device(s): {}", list.len(), list.join(", "))
    };
    let one = one.scored(
        if devices.is_empty() { 0 } else { 15 },
        vec![seen.clone()],
        "declare a file audit device in the server config: audit \"file\" \"local\" { options = { file_path = \"/var/log/openbao/audit.log\" } }, then restart",
    );
    let socket = devices.iter().any(|d| d.kind == "socket");
    let file = devices.iter().any(|d| d.kind == "file");
    let mut evidence = vec![seen];
    let points = if socket && !file {
        evidence.push("a socket device has no file device beside it: a stalled listener makes the server fail requests".into());
        0
    } else if devices.len() >= 2 {
        5
    } else {
        0
    };
    [one, two.scored(points, evidence, "declare a second audit device (e.g. a file device next to the socket device) so one failing device does not block requests or lose the trail")]
}

/// `tls` (15): the configured address uses https; `tls_certificate_expiry` (5): days left.
pub(crate) async fn tls_checks(ctx: &Ctx<'_>) -> [Finding; 2] {
    let tls = Finding::new("tls", "TLS on the listener", 15);
    let exp = Finding::new("tls_certificate_expiry", "Days to certificate expiry", 5);
    let url = match reqwest::Url::parse(&ctx.server.address) {
        Ok(u) => u,
        Err(e) => {
            return [
                tls.not_assessed(format!("{} is not a URL: {e}", ctx.server.address)),
                exp.not_assessed("no URL"),
            ]
        }
    };
    if url.scheme() != "https" {
        return [
            tls.scored(0, vec![format!("the configured address {} is plain HTTP: tokens and secrets cross the network unencrypted", ctx.server.address)],
                "give the listener tls_cert_file and tls_key_file (remove tls_disable) and use an https:// address in vault.address"),
            exp.not_applicable("no TLS, so no certificate"),
        ];
    }
    let tls = tls.scored(
        15,
        vec![format!(
            "the configured address {} uses https",
            ctx.server.address
        )],
        "",
    );
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let timeout = ctx.timeout;
    let leaf = tokio::task::spawn_blocking(move || tls::leaf_certificate(&host, port, timeout))
        .await
        .unwrap_or_else(|e| Err(format!("the TLS probe panicked: {e}")));
    let exp = match leaf {
        Err(r) => exp.not_assessed(r),
        Ok(leaf) => {
            let days = (leaf.not_after - ctx.now as i64).div_euclid(DAY as i64);
            let seen = vec![format!(
                "certificate {} expires {} ({} days from now)",
                leaf.subject,
                rfc3339_secs(leaf.not_after.max(0) as u64),
                days
            )];
            let points = if days < 7 {
                0
            } else if days < CERT_WARN_DAYS {
                2
            } else {
                5
            };
            exp.scored(points, seen, "renew the listener certificate (tls_cert_file) and reload the server (SIGHUP) before it expires")
        }
    };
    [tls, exp]
}

/// `ha` (5): HA storage with at least two nodes (half for HA with one node).
pub(crate) async fn ha(c: &VaultClient, server: &Server) -> Finding {
    let f = Finding::new("ha", "High availability", 5);
    let Some(enabled) = server.ha_enabled else {
        return f.not_assessed("sys/leader did not answer");
    };
    if !enabled {
        return f.scored(0, vec![format!("HA is not enabled (storage {})", server.storage_type.as_deref().unwrap_or("unknown"))],
            "use integrated storage (raft) with three or five nodes so one failing node does not stop every secret fetch");
    }
    match c.read("sys/ha-status").await {
        Ok(v) => {
            let nodes = data(&v)["nodes"].as_array().map_or(0, |a| a.len());
            f.scored(
                if nodes >= 2 { 5 } else { 2 },
                vec![format!("HA enabled, {nodes} node(s) in the cluster")],
                "join more nodes (`bao operator raft join`): with one node, HA does not help",
            )
        }
        Err(e) => f.not_assessed(format!(
            "HA is enabled but the node count is unknown: {}",
            not_assessed(&e)
        )),
    }
}

/// `version_age` (5): the server build is younger than 180 days (half up to 365).
pub(crate) fn version_age(server: &Server, now: u64) -> Finding {
    let f = Finding::new("version_age", "Age of the server version", 5);
    let Some(date) = server.build_date.as_deref() else {
        return f.not_assessed("the server reports no build date");
    };
    let Some(built) = parse_rfc3339_secs(date) else {
        return f.not_assessed(format!("the build date {date:?} does not parse"));
    };
    let days = now.saturating_sub(built) / DAY;
    let points = if days < VERSION_WARN_DAYS {
        5
    } else if days < VERSION_FAIL_DAYS {
        2
    } else {
        0
    };
    f.scored(
        points,
        vec![format!(
            "version {} built {date} ({days} days ago)",
            server.version.as_deref().unwrap_or("unknown")
        )],
        "upgrade the server; `vaultkeeper version-check` lists the newer releases",
    )
}

#[cfg(test)]
mod tests;
