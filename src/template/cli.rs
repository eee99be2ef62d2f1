//! `vaultkeeper render --template NAME [--dry-run]`.

use super::current::{dry_run_lines, render_current};
use super::render::Written;
use crate::exit;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub(crate) struct RenderArgs {
    /// The template (a name under `templates` in the spec).
    #[arg(long, value_name = "NAME")]
    pub template: String,
    /// Print the placeholders it would fill (names only, never values); write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub(crate) fn render(spec_path: &Path, a: RenderArgs) -> anyhow::Result<u8> {
    let spec = crate::spec::load_spec(spec_path)?;
    let Some(t) = spec.templates.get(&a.template) else {
        let known: Vec<&str> = spec.templates.keys().map(String::as_str).collect();
        tracing::error!(
            "no template named {:?} in the spec (templates: {})",
            a.template,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
        return Ok(exit::USAGE);
    };
    if a.dry_run {
        for line in dry_run_lines(&spec, t) {
            println!("{line}");
        }
        return Ok(exit::OK);
    }
    match render_current(&spec, t) {
        Ok(Written::Changed) => {
            tracing::info!("template {}: rendered {}", t.name, t.path.display());
            Ok(exit::OK)
        }
        Ok(Written::Unchanged) => {
            tracing::info!(
                "template {}: unchanged, {} left as it is",
                t.name,
                t.path.display()
            );
            Ok(exit::OK)
        }
        Err(e) => {
            tracing::error!("{}", crate::report::message(&e));
            Ok(e.exit_code())
        }
    }
}
