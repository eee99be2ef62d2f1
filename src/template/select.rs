//! [`select`]: the secrets and templates `fetch NAMES` works on.

use crate::spec::template::TemplateSpec;
use crate::spec::{SecretSpec, Spec};

/// The secrets and templates `fetch NAMES` works on: all of both when no name
/// is given; a template brings its secrets along.
pub(crate) fn select<'a>(
    spec: &'a Spec,
    names: &[String],
) -> Result<(Vec<&'a SecretSpec>, Vec<&'a TemplateSpec>), String> {
    if names.is_empty() {
        return Ok((
            spec.secrets.values().collect(),
            spec.templates.values().collect(),
        ));
    }
    let mut secrets: Vec<&SecretSpec> = Vec::new();
    let mut templates: Vec<&TemplateSpec> = Vec::new();
    for n in names {
        if let Some(s) = spec.secrets.get(n) {
            if !secrets.iter().any(|x| x.name == s.name) {
                secrets.push(s);
            }
        } else if let Some(t) = spec.templates.get(n) {
            if !templates.iter().any(|x| x.name == t.name) {
                templates.push(t);
            }
            for s in t.secrets() {
                if let Some(s) = spec.secrets.get(s) {
                    if !secrets.iter().any(|x| x.name == s.name) {
                        secrets.push(s);
                    }
                }
            }
        } else {
            let list = |it: Vec<&str>| {
                if it.is_empty() {
                    "none".to_string()
                } else {
                    it.join(", ")
                }
            };
            return Err(format!(
                "no secret or template named {n:?} in the spec (secrets: {}; templates: {})",
                list(spec.secrets.keys().map(String::as_str).collect()),
                list(spec.templates.keys().map(String::as_str).collect()),
            ));
        }
    }
    Ok((secrets, templates))
}
