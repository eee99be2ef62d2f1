//! Small JSON state records under the state directory (a secret's status, the
//! login status, the rotation book, address states, the last digest...): one
//! way to read them (no symlink followed; absent, unreadable or unparsable is
//! "no record") and one way to write them (0600 in 0700 directories, atomic).

use super::dir::{ensure_private_dir, open_dir_nofollow};
use super::error::FsError;
use super::file::{read_file_at_most, replace_file_with, Durability};
use serde::{de::DeserializeOwned, Serialize};
use std::path::Path;

/// The largest record [`load_record`] reads: records are a few KiB.
pub(super) const MAX_RECORD: u64 = 1 << 20;

/// `<dir>/<file>` as a `T`; `None` when it is absent, not a regular file,
/// larger than [`MAX_RECORD`], unreadable or not a `T` (a record is rewritten
/// by the next run anyway).
pub(crate) fn load_record<T: DeserializeOwned>(dir: &Path, file: &str) -> Option<T> {
    load_record_capped(dir, file, MAX_RECORD)
}

/// [`load_record`] with a smaller size cap.
pub(crate) fn load_record_capped<T: DeserializeOwned>(
    dir: &Path,
    file: &str,
    max: u64,
) -> Option<T> {
    let fd = open_dir_nofollow(dir).ok()?;
    let bytes = read_file_at_most(&fd, file, dir, max).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `value` to `<dir>/<file>` (0600) by atomic replacement. `base` (the
/// state directory) and then `dir`, which is `base` or one of its
/// subdirectories, are created 0700 when missing.
pub(crate) fn save_record<T: Serialize>(
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
    let mut bytes = serde_json::to_vec_pretty(value).expect("state records serialize");
    bytes.push(b'\n');
    replace_file_with(&fd, file, &bytes, 0o600, dir, durability)
}
