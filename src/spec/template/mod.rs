//! The spec's `templates` section: raw JSON, defaults and validation
//! (rendering is [`crate::template`]'s). Every
//! problem names its JSON path (`templates.<name>.<key>`); every unknown
//! placeholder of every template is reported, not only the first.

pub mod parse;
mod resolve;
mod types;

pub use resolve::{resolve, RENDERED_DIR};
pub use types::{RawTemplate, Source, TemplateSpec};

#[cfg(test)]
mod tests;
