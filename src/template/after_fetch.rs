//! The templates of a `fetch`: rendered after their secrets when all of them
//! succeeded ([`after_fetch`]), and each outcome logged ([`report`]).

use super::current::render_current;
use super::error::TemplateError;
use super::render::Written;
use crate::fetch::{Outcome, Report};
use crate::spec::template::TemplateSpec;
use crate::spec::Spec;

/// What happened to one template in a `fetch`.
#[derive(Debug)]
pub(crate) enum TemplateOutcome {
    Rendered {
        written: Written,
        /// Its secrets that were served from the cache (Vault unreachable).
        from_cache: Vec<String>,
    },
    Failed(TemplateError),
}

/// After `fetch` rendered the secrets: renders every template whose secrets all
/// succeeded (fresh or from the cache); a template with a failed secret keeps
/// its previous version.
pub(crate) async fn after_fetch(
    spec: &Spec,
    templates: &[&TemplateSpec],
    report: &Report,
) -> Vec<(String, TemplateOutcome)> {
    let mut out = Vec::new();
    for t in templates {
        let mut from_cache = Vec::new();
        let mut failed = None;
        for s in t.secrets() {
            match report.outcomes.iter().find(|(n, _)| n == s).map(|(_, o)| o) {
                Some(Outcome::Failed(_)) => {
                    failed = Some(s.to_string());
                    break;
                }
                Some(Outcome::FromCache { .. }) => from_cache.push(s.to_string()),
                _ => {}
            }
        }
        let outcome = match failed {
            Some(secret) => TemplateOutcome::Failed(TemplateError::SecretFailed {
                template: t.name.clone(),
                secret,
                path: t.path.clone(),
            }),
            None => {
                let (spec, t2) = (spec.clone(), (*t).clone());
                let job = tokio::task::spawn_blocking(move || render_current(&spec, &t2));
                match job
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
                {
                    Ok(written) => TemplateOutcome::Rendered {
                        written,
                        from_cache,
                    },
                    Err(e) => TemplateOutcome::Failed(e),
                }
            }
        };
        out.push((t.name.clone(), outcome));
    }
    out
}

/// Logs each template's outcome; the exit code of the first failure, else 0.
pub(crate) fn report(outcomes: &[(String, TemplateOutcome)], spec: &Spec) -> u8 {
    let mut code = crate::exit::OK;
    for (name, o) in outcomes {
        let path = spec
            .templates
            .get(name)
            .map(|t| t.path.display().to_string())
            .unwrap_or_default();
        match o {
            TemplateOutcome::Rendered {
                written,
                from_cache,
            } => {
                let how = if from_cache.is_empty() {
                    String::new()
                } else {
                    format!(
                        " from the last-known-good cache of {} (Vault unreachable)",
                        from_cache.join(", ")
                    )
                };
                match written {
                    Written::Changed => tracing::info!("template {name}: rendered {path}{how}"),
                    Written::Unchanged => {
                        tracing::info!("template {name}: unchanged, {path} left as it is{how}")
                    }
                }
            }
            TemplateOutcome::Failed(e) => {
                tracing::error!("{}", crate::report::message(e));
                if code == crate::exit::OK {
                    code = e.exit_code();
                }
            }
        }
    }
    code
}
