//! The spec's `templates` section: raw JSON, defaults and validation
//! (rendering is [`crate::template`]'s). Every
//! problem names its JSON path (`templates.<name>.<key>`); every unknown
//! placeholder of every template is reported, not only the first.

pub(crate) mod parse;
mod resolve;
mod types;

pub(crate) use resolve::resolve;
pub(crate) use types::{RawTemplate, Source, TemplateSpec};

#[cfg(test)]
mod tests;
