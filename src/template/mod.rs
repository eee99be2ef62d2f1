//! Templates: one file built from the keys of several secrets, e.g. a
//! `grafana.ini` with a password inside, or a systemd `EnvironmentFile=`.
//!
//! - [`crate::spec::template`]: the spec's `templates` section (raw JSON,
//!   defaults, validation) and [`parse`], `content` with `{{ SECRET.KEY }}`
//!   placeholders.
//! - [`env`]: `envFrom` lines quoted for systemd's `EnvironmentFile=`.
//! - [`render`]: building the bytes and writing the file atomically.
//!
//! A template is rendered from its secrets' current data, which is their
//! last-known-good cache (written after every successful read from Vault, and
//! what rendered the secrets themselves when Vault was unreachable): a template
//! whose secrets came from the cache is rendered from the cache too, and the
//! rendered text itself is never cached. It is rendered after its secrets and
//! while holding their locks, so it never mixes two versions of one secret.

mod after_fetch;
pub mod cli;
mod current;
pub mod env;
mod error;
pub mod render;
mod select;

pub use crate::spec::template::{parse, Source, TemplateSpec};
pub use after_fetch::{after_fetch, report, TemplateOutcome};
pub use current::{dry_run_lines, render_current};
pub use error::TemplateError;
pub use render::Written;
pub use select::select;
