//! [`resolve`]: the `templates` section's defaults and validation. Every
//! problem names its JSON path (`templates.<name>.<key>`); every unknown
//! placeholder of every template is reported, not only the first.

use super::parse::{self, Segment};
use super::types::{RawTemplate, Source, TemplateSpec};
use crate::spec::error::Problem;
use crate::spec::fields::{check_account, check_secret_name, parse_on_change};
use crate::spec::mode;
use crate::spec::model::{SecretSpec, DEFAULT_SECRETS_DIR};
use crate::spec::path_rules;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The subdirectory of the secrets directory that templates go to by default.
pub(crate) const RENDERED_DIR: &str = "rendered";

/// Fills in defaults and validates every template against the secrets.
pub(crate) fn resolve(
    raw: BTreeMap<String, RawTemplate>,
    secrets: &BTreeMap<String, SecretSpec>,
    state_dir: &Path,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, TemplateSpec> {
    let known: Vec<&str> = secrets.keys().map(String::as_str).collect();
    let mut out = BTreeMap::new();
    for (name, t) in raw {
        let at = |key: &str| format!("templates.{name}.{key}");
        if let Err(m) = check_secret_name(&name) {
            problems.push(Problem::new(
                format!("templates.{name}"),
                m.replace("cannot name a secret", "cannot name a template")
                    .replace(
                        "vault-secret-<name>.service",
                        "vault-template-<name>.service",
                    ),
            ));
        }
        if secrets.contains_key(&name) {
            problems.push(Problem::new(
                format!("templates.{name}"),
                format!("{name:?} is also a secret's name; `vaultkeeper fetch {name}` must mean one thing: rename the template"),
            ));
        }
        let source = match (t.content, t.env_from) {
            (Some(_), Some(_)) => {
                problems.push(Problem::new(
                    format!("templates.{name}"),
                    "has both content and envFrom; they are exclusive: keep one",
                ));
                Source::EnvFrom(Vec::new())
            }
            (None, None) => {
                problems.push(Problem::new(
                    format!("templates.{name}"),
                    "has neither content nor envFrom; set one, e.g. \"content\": \"password = {{ db.password }}\\n\" or \"envFrom\": [\"db\"]",
                ));
                Source::EnvFrom(Vec::new())
            }
            (Some(content), None) => {
                let (segments, found) = parse::parse(&content, &known);
                let clean = found.is_empty();
                for p in found {
                    problems.push(Problem::new(at("content"), p.to_string()));
                }
                if clean && found_no_placeholder(&segments) {
                    problems.push(Problem::new(
                        at("content"),
                        "has no {{ SECRET.KEY }} placeholder; a file without secrets belongs in the Nix store (environment.etc), not here",
                    ));
                }
                Source::Content(segments)
            }
            (None, Some(names)) => {
                if names.is_empty() {
                    problems.push(Problem::new(
                        at("envFrom"),
                        "is empty; list the secrets whose keys become variables, e.g. [\"db\"]",
                    ));
                }
                for (i, s) in names.iter().enumerate() {
                    if !secrets.contains_key(s) {
                        problems.push(Problem::new(
                            format!("templates.{name}.envFrom[{i}]"),
                            format!(
                                "{s:?} is not in secrets (known: {})",
                                if known.is_empty() {
                                    "none".to_string()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        ));
                    }
                    if names[..i].contains(s) {
                        problems.push(Problem::new(
                            format!("templates.{name}.envFrom[{i}]"),
                            format!("{s:?} is listed twice"),
                        ));
                    }
                }
                Source::EnvFrom(names)
            }
        };
        let path = match t.path {
            Some(p) => path_rules::syntax(&at("path"), &p).unwrap_or_else(|problem| {
                problems.push(problem);
                PathBuf::from(&p)
            }),
            None => Path::new(DEFAULT_SECRETS_DIR)
                .join(RENDERED_DIR)
                .join(&name),
        };
        let owner = t.owner.unwrap_or_else(|| "root".into());
        check_account(problems, &at("owner"), &owner);
        let group = t.group.unwrap_or_else(|| "root".into());
        check_account(problems, &at("group"), &group);
        let mode = match t.mode.as_deref() {
            None => 0o400,
            Some(m) => mode::parse_mode(m).unwrap_or_else(|msg| {
                problems.push(Problem::new(at("mode"), msg));
                0o400
            }),
        };
        if mode & 0o7222 != 0 {
            problems.push(Problem::new(
                at("mode"),
                format!("{mode:04o} lets someone write the file or sets setuid/setgid/sticky; a rendered template is read-only, e.g. \"0400\" or \"0440\""),
            ));
        }
        for (i, svc) in t.services.iter().enumerate() {
            if svc.is_empty() || svc.contains('/') || svc.chars().any(char::is_whitespace) {
                problems.push(Problem::new(
                    format!("templates.{name}.services[{i}]"),
                    format!("{svc:?} is not a unit name"),
                ));
            }
        }
        let on_change = parse_on_change(problems, &at("onChange"), t.on_change.as_deref());
        out.insert(
            name.clone(),
            TemplateSpec {
                name,
                source,
                path,
                owner,
                group,
                mode,
                services: t.services,
                on_change,
            },
        );
    }
    check_paths(&out, secrets, state_dir, problems);
    out
}

fn found_no_placeholder(segments: &[Segment]) -> bool {
    parse::placeholders(segments).is_empty()
}

/// A template's file must not land where another file of ours lives.
fn check_paths(
    templates: &BTreeMap<String, TemplateSpec>,
    secrets: &BTreeMap<String, SecretSpec>,
    state_dir: &Path,
    problems: &mut Vec<Problem>,
) {
    let mut seen: BTreeMap<&Path, &str> = BTreeMap::new();
    for (name, t) in templates {
        let at = format!("templates.{name}.path");
        if let Some(other) = seen.insert(&t.path, name) {
            problems.push(Problem::new(
                &at,
                format!(
                    "{} is also the path of template {other}; give each template its own file",
                    t.path.display()
                ),
            ));
        }
        // The file goes into its parent directory: the system-directory rules
        // of outputDir apply to that directory.
        let parent = t.path.parent().unwrap_or(Path::new("/"));
        if let Some(why) = crate::paths::system_reason(parent) {
            problems.push(Problem::new(
                &at,
                format!(
                    "{} is in {}, which {why}; render templates below /run, e.g. /run/secrets/rendered/{name} [rule: system-directory]",
                    t.path.display(),
                    parent.display()
                ),
            ));
        }
        if t.path.components().any(|c| {
            let c = c.as_os_str().to_string_lossy();
            c.starts_with('.') && c.contains(".vaultkeeper")
        }) {
            problems.push(Problem::new(
                &at,
                format!(
                    "{} uses a name vaultkeeper reserves for its own files (\".*.vaultkeeper*\"); choose another, e.g. /run/secrets/rendered/{name} [rule: reserved-name]",
                    t.path.display()
                ),
            ));
        }
        if t.path.starts_with(state_dir) || state_dir.starts_with(&t.path) {
            problems.push(Problem::new(
                &at,
                format!(
                    "{} is inside stateDir {} (credentials and caches); render templates below /run, e.g. /run/secrets/rendered/{name}",
                    t.path.display(),
                    state_dir.display()
                ),
            ));
        }
        for (sname, s) in secrets {
            let parent = s.output_dir.parent().unwrap_or(Path::new("/"));
            let leaf = s.output_dir.file_name().unwrap_or_default();
            let gens = parent.join(format!(".{}.vaultkeeper", leaf.to_string_lossy()));
            for (what, dir) in [
                ("outputDir", &s.output_dir),
                ("cacheDir", &s.cache_dir),
                ("generations", &gens),
            ] {
                if t.path.starts_with(dir) || dir.starts_with(&t.path) {
                    problems.push(Problem::new(
                        &at,
                        format!(
                            "{} collides with secret {sname}'s {what} {}; put the template elsewhere, e.g. /run/secrets/rendered/{name}",
                            t.path.display(),
                            dir.display()
                        ),
                    ));
                }
            }
        }
    }
}
