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
pub(crate) mod cli;
mod current;
pub(crate) mod env;
mod error;
pub(crate) mod render;
mod select;

pub(crate) use crate::spec::template::TemplateSpec;
pub(crate) use after_fetch::{after_fetch, report};
pub(crate) use current::render_current;
pub(crate) use error::TemplateError;
pub(crate) use render::Written;
pub(crate) use select::select;
