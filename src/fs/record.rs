//! Small JSON state records under the state directory (a secret's status, the
//! login status, the rotation book, address states, the last digest...): one
//! way to read them (no symlink followed; absent, unreadable or unparsable is
//! "no record") and one way to write them (0600 in 0700 directories, atomic).

use super::dir::{ensure_private_dir, open_dir_nofollow};
use super::error::FsError;
use super::file::{read_file_at, replace_file_with, Durability};
use serde::{de::DeserializeOwned, Serialize};
use std::path::Path;

/// `<dir>/<file>` as a `T`; `None` when it is absent, not a regular file,
/// unreadable or not a `T` (a record is rewritten by the next run anyway).
pub fn load_record<T: DeserializeOwned>(dir: &Path, file: &str) -> Option<T> {
    let fd = open_dir_nofollow(dir).ok()?;
    let bytes = read_file_at(&fd, file, dir).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `value` to `<dir>/<file>` (0600) by atomic replacement. `base` (the
/// state directory) and then `dir`, which is `base` or one of its
/// subdirectories, are created 0700 when missing.
pub fn save_record<T: Serialize>(
    base: &Path,
    dir: &Path,
    file: &str,
    value: &T,
    durability: Durability,
) -> Result<(), FsError> {
    let mut fd = ensure_private_dir(base, 0o700)?;
    if dir != base {
        fd = ensure_private_dir(dir, 0o700)?;
    }
    let bytes = serde_json::to_vec(value).expect("state records serialize");
    replace_file_with(&fd, file, &bytes, 0o600, dir, durability)
}
