//! The credential files: their directories (0700, created), each file
//! written atomically 0600 ([`store`]), and the role-id already in place.

use super::error::BootstrapError;
use crate::fs;
use crate::secret::Secret;
use crate::spec::AppRoleSpec;
use std::path::{Path, PathBuf};

/// The role-id already in place (a plain wrapped secret-id completes it), read
/// with the bounded credential reader.
pub(super) fn read_role_id(path: &Path) -> Result<Secret, BootstrapError> {
    crate::fetch::read_secret_file("role-id", path).map_err(|e| {
        tracing::error!("{e}");
        BootstrapError::RoleIdMissing {
            path: path.to_path_buf(),
        }
    })
}

/// Open (and create, 0700) the directories of both credential files.
pub(super) fn credential_dirs(
    a: &AppRoleSpec,
) -> Result<Vec<(PathBuf, std::os::fd::OwnedFd)>, fs::FsError> {
    let mut dirs: Vec<(PathBuf, std::os::fd::OwnedFd)> = Vec::new();
    for f in [&a.role_id_file, &a.secret_id_file] {
        let parent = f.parent().unwrap_or(Path::new("/")).to_path_buf();
        if !dirs.iter().any(|(p, _)| p == &parent) {
            let fd = fs::ensure_private_dir(&parent, 0o700)?;
            dirs.push((parent, fd));
        }
    }
    Ok(dirs)
}

pub(super) fn store(
    dirs: &[(PathBuf, std::os::fd::OwnedFd)],
    file: &Path,
    value: &Secret,
) -> Result<(), fs::FsError> {
    let parent = file.parent().unwrap_or(Path::new("/"));
    let (_, fd) = dirs
        .iter()
        .find(|(p, _)| p == parent)
        .expect("directory opened before");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut bytes = value.expose().as_bytes().to_vec();
    bytes.push(b'\n');
    let r = fs::replace_file(fd, &name, &bytes, 0o600, parent);
    zeroize::Zeroize::zeroize(&mut bytes);
    r
}
