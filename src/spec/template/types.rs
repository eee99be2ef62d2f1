//! The types of the spec's `templates` section: as JSON writes it
//! ([`RawTemplate`]) and resolved ([`TemplateSpec`]).

use super::parse::{self, Placeholder, Segment};
use crate::spec::on_change::OnChange;
use serde::Deserialize;
use std::path::PathBuf;

/// A template exactly as JSON writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawTemplate {
    pub content: Option<String>,
    pub env_from: Option<Vec<String>>,
    pub path: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<String>,
    #[serde(default)]
    pub services: Vec<String>,
    pub on_change: Option<String>,
}

/// What a template is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Text with `{{ SECRET.KEY }}` placeholders.
    Content(Vec<Segment>),
    /// Every key of these secrets, in this order, as `KEY="value"` lines.
    EnvFrom(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateSpec {
    pub name: String,
    pub source: Source,
    /// The rendered file.
    pub path: PathBuf,
    pub owner: String,
    pub group: String,
    pub mode: u32,
    pub services: Vec<String>,
    pub on_change: OnChange,
}

impl TemplateSpec {
    /// The secrets this template reads, sorted, each once.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let mut v: Vec<&str> = match &self.source {
            Source::Content(segs) => parse::placeholders(segs)
                .into_iter()
                .map(|p| p.secret.as_str())
                .collect(),
            Source::EnvFrom(names) => names.iter().map(String::as_str).collect(),
        };
        v.sort_unstable();
        v.dedup();
        v
    }

    pub(crate) fn uses(&self, secret: &str) -> bool {
        self.secrets().contains(&secret)
    }

    /// The placeholders of a content template (empty for envFrom).
    pub(crate) fn placeholders(&self) -> Vec<&Placeholder> {
        match &self.source {
            Source::Content(segs) => parse::placeholders(segs),
            Source::EnvFrom(_) => Vec::new(),
        }
    }
}
