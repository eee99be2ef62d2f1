//! From a parsed command line to the function that does the work.

use super::args::{ChatCommand, Cli, Command};
use super::check::check;
use super::outcome::{report_bootstrap, report_fetch};
use super::provision::run_provision;
use super::serve::{chat_serve, run_daemon};
use crate::report;
use crate::runtime::multi_thread;
use crate::spec::{load_spec, load_spec_from};
use crate::{bootstrap, exit, fetch};
use anyhow::Context;

pub(crate) fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check => check(&cli.spec),
        Command::Bootstrap {
            strict,
            erase_token_from,
        } => {
            let spec = load_spec_from(&cli.spec, crate::pin::Source::MayPin)?;
            let result = multi_thread()?.block_on(bootstrap::run(
                &spec,
                |k| std::env::var(k).ok(),
                &erase_token_from,
            ));
            Ok(report_bootstrap(&spec, result, strict))
        }
        Command::Fetch {
            names,
            lock_timeout,
            boot,
        } => {
            let spec = load_spec(&cli.spec)?;
            let (selected, templates) = match crate::template::select(&spec, &names) {
                Ok(s) => s,
                Err(msg) => {
                    tracing::error!("{}", report::one_line(&msg));
                    return Ok(exit::USAGE);
                }
            };
            let rt = multi_thread()?;
            let run = async {
                if boot {
                    fetch::run_boot(&spec, &selected, &templates, lock_timeout).await
                } else {
                    fetch::run_with(&spec, &selected, lock_timeout).await
                }
            };
            match rt.block_on(run) {
                Ok(report) => {
                    let code = report_fetch(&report, &spec);
                    let done =
                        rt.block_on(crate::template::after_fetch(&spec, &templates, &report));
                    let tcode = crate::template::report(&done, &spec);
                    Ok(if code != exit::OK { code } else { tcode })
                }
                Err(e) => Ok(report::fail(&e)),
            }
        }
        Command::Provision(args) => run_provision(&cli.spec, args),
        Command::Status(a) => crate::insights::cli::status(&cli.spec, a),
        Command::Posture(a) => crate::insights::cli::posture(&cli.spec, a),
        Command::VersionCheck(a) => crate::insights::cli::version_check(&cli.spec, a),
        Command::Report(r) => crate::insights::cli::report(&cli.spec, r),
        Command::Digest => crate::insights::cli::digest(&cli.spec),
        Command::Render(a) => crate::template::cli::render(&cli.spec, a),
        Command::Run => run_daemon(cli.spec),
        Command::Audit(cmd) => crate::audit::cli::run(&cli.spec, cmd),
        Command::Chat(ChatCommand::Serve) => chat_serve(&cli.spec),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "vaultkeeper",
                &mut std::io::stdout(),
            );
            Ok(exit::OK)
        }
        Command::Man => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut std::io::stdout())
                .context("cannot write the manual page to stdout")?;
            Ok(exit::OK)
        }
    }
}
