//! The file-system layer: primitives that never follow a symlink and never show
//! a partial file, used by everything that writes (secrets, caches, state).
//!
//! Everything works relative to directory file descriptors opened with
//! `O_NOFOLLOW`, so a symlink planted in a directory we write to is replaced (by
//! `rename`) or refused (by `open`), never followed.
//!
//! - [`error`]: [`FsError`], what we were doing, where, and the OS error.
//! - [`dir`]: opening, creating, listing, fsyncing and removing directories.
//! - [`file`]: creating, atomically replacing and reading files.
//! - [`temp`]: the names of temporaries (`<pid>-<hex>` tails).
//! - [`record`]: small JSON state records, loaded and saved one way.

mod dir;
mod error;
mod file;
mod record;
pub(crate) mod temp;

pub(crate) use dir::{
    ensure_private_dir, fsync_dir, list_dir, mkdir_at, open_dir_nofollow, open_subdir,
    remove_tree_at,
};

pub(crate) use error::fs_err;
pub(crate) use error::FsError;
pub(crate) use file::libc_s_ifmt;
pub(crate) use file::{
    create_file, read_file_at, replace_file, replace_file_with, write_new_file_volatile, Durability,
};
pub(crate) use record::{load_record, load_record_capped, save_record};

#[cfg(test)]
mod tests;
