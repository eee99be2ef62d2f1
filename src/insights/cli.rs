//! The insights subcommands' arguments and their edge: load the spec (or, on an
//! operator's machine without one, VAULT_ADDR), authenticate, collect, print
//! human text or `--json`, return the exit code.

use super::error::InsightsError;
use super::output;
use super::token::{authenticate, release, TokenSource};
use crate::exit;
use crate::spec::Spec;
use crate::vault::VaultClient;
use serde::Serialize;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub(crate) struct JsonArg {
    /// Print JSON (stable, see docs/reference/insights-json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct VersionArgs {
    /// A releases feed in the GitHub releases API shape (default: insights.versionFeed,
    /// else openbao/openbao or hashicorp/vault from the server's version).
    #[arg(long, value_name = "URL")]
    pub feed: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Subcommand, Debug)]
pub(crate) enum ReportCommand {
    /// Leases by mount and TTL bucket, longest-lived leases and tokens, tokens without expiry.
    Leases(JsonArg),
    /// Entities, tokens, secrets per mount, auth methods, audit counters, suggestions.
    Usage(JsonArg),
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// The spec, or on a machine without one a spec built from VAULT_ADDR/BAO_ADDR.
pub(crate) fn load(spec_path: &Path) -> anyhow::Result<Spec> {
    Ok(crate::spec::load_spec_or_env(spec_path)?)
}

fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T) -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).expect("reports serialize")
        );
    } else {
        print!("{}", human(value));
    }
}

/// Prints a report (exit 0) or logs the error (exit: its code).
fn printed<T: Serialize>(
    json: bool,
    r: Result<T, InsightsError>,
    human: impl FnOnce(&T) -> String,
) -> anyhow::Result<u8> {
    match r {
        Ok(v) => {
            print(json, &v, human);
            Ok(exit::OK)
        }
        Err(e) => fail(e),
    }
}

fn fail(e: InsightsError) -> anyhow::Result<u8> {
    Ok(crate::report::fail(&e))
}

pub(crate) fn status(spec_path: &Path, a: JsonArg) -> anyhow::Result<u8> {
    let spec = load(spec_path)?;
    crate::runtime::multi_thread()?.block_on(async {
        let client = VaultClient::new(&spec.vault).map_err(InsightsError::from);
        let client = match client {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let authed = authenticate(&client, &spec, &env).await;
        let authed_ref = authed
            .as_ref()
            .map(|(c, s)| (c, *s))
            .map_err(|e| e.to_string());
        let collected = super::status::collect(&client, authed_ref, &spec).await;
        release(&authed).await;
        match collected {
            Ok(s) => {
                print(a.json, &s, |s| output::status(s, crate::clock::now_unix()));
                Ok(if s.server.sealed {
                    exit::SEALED
                } else {
                    exit::OK
                })
            }
            Err(e) if e.is_unreachable() => {
                // Vault cannot be asked: say where each secret's files come from now.
                let outage = output::Outage {
                    server: output::OutageServer {
                        address: client.addr().to_string(),
                        reachable: false,
                        error: crate::report::message(&e),
                    },
                    secrets: super::status::secret_states(&spec),
                    addresses: super::status::address_states(&client, &spec),
                };
                print(a.json, &outage, |o| {
                    output::outage(o, crate::clock::now_unix())
                });
                fail(e.into())
            }
            Err(e) => fail(e.into()),
        }
    })
}

/// A client with the insights token on an unsealed server. An AppRole token is
/// revoked when the caller is done ([`release`]).
async fn ready(
    spec: &Spec,
) -> Result<(VaultClient, TokenSource, super::status::Server), InsightsError> {
    let client = VaultClient::new(&spec.vault)?;
    let server = super::status::server(&client).await?;
    if server.sealed {
        return Err(InsightsError::Sealed {
            addr: server.address,
        });
    }
    let (authed, source) = authenticate(&client, spec, &env).await?;
    Ok((authed, source, server))
}

pub(crate) fn posture(spec_path: &Path, a: JsonArg) -> anyhow::Result<u8> {
    let spec = load(spec_path)?;
    crate::runtime::multi_thread()?.block_on(async {
        let r = async {
            let (c, source, server) = ready(&spec).await?;
            let r = super::posture::assess(&c, &server, spec.vault.timeout).await;
            release(&Ok((c, source))).await;
            Ok(r)
        };
        match r.await {
            // Every read denied: a wrong or expired token, or one without the
            // insights policy. A score of 0 would say "insecure" when nothing
            // was looked at: print what was tried, then fail (exit 4).
            Ok(report) if report.token_read_nothing() => {
                print(a.json, &report, output::posture);
                Ok(crate::report::fail(&crate::report::Failure::new(
                    exit::DENIED,
                    format!(
                        "posture of {}: every check that needs the token was denied ({} not assessed), so the score says nothing about the server",
                        report.address, report.not_assessed
                    ),
                    "check that the token is valid (bao token lookup) and carries the insights policy (docs/policies/insights.hcl)",
                )))
            }
            r => printed(a.json, r, output::posture),
        }
    })
}

pub(crate) fn version_check(spec_path: &Path, a: VersionArgs) -> anyhow::Result<u8> {
    let spec = load(spec_path)?;
    crate::runtime::multi_thread()?.block_on(async {
        let run = async {
            let client = VaultClient::new(&spec.vault)?;
            let server = super::status::server(&client).await?;
            let v = server.version.clone().ok_or_else(|| {
                InsightsError::Vault(crate::vault::VaultError::Malformed {
                    path: "sys/seal-status".into(),
                    detail: "no version in the answer".into(),
                })
            })?;
            let feed = a
                .feed
                .clone()
                .or_else(|| spec.insights.version_feed.clone())
                .unwrap_or_else(|| super::version::default_feed(&v).to_string());
            let releases = super::version::fetch_feed(
                &feed,
                spec.vault.timeout.max(std::time::Duration::from_secs(10)),
            )
            .await?;
            Ok::<_, InsightsError>(super::version::compare(&v, &feed, &releases))
        };
        printed(a.json, run.await, output::version)
    })
}

pub(crate) fn report(spec_path: &Path, cmd: ReportCommand) -> anyhow::Result<u8> {
    let spec = load(spec_path)?;
    crate::runtime::multi_thread()?.block_on(async {
        let (c, source, _) = match ready(&spec).await {
            Ok(x) => x,
            Err(e) => return fail(e),
        };
        match cmd {
            ReportCommand::Leases(a) => {
                let r = super::leases::collect(&c).await;
                print(a.json, &r, output::leases);
            }
            ReportCommand::Usage(a) => {
                let r = super::usage::collect(&c, &spec.state_dir).await;
                print(a.json, &r, output::usage);
            }
        }
        release(&Ok((c, source))).await;
        Ok(exit::OK)
    })
}

/// `vaultkeeper digest`: prints the Block Kit payload the daemon sends.
pub(crate) fn digest(spec_path: &Path) -> anyhow::Result<u8> {
    let spec = load(spec_path)?;
    let host = crate::host::hostname();
    crate::runtime::multi_thread()?.block_on(async {
        match super::digest::build(&spec, &env, &host).await {
            Ok(d) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&d.payload).expect("serializes")
                );
                if let Err(e) = super::digest::save_last(&spec.state_dir, &d.record) {
                    tracing::warn!("{e}");
                }
                Ok(exit::OK)
            }
            Err(e) => fail(e),
        }
    })
}
