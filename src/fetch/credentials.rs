//! The host's AppRole credentials: role-id and secret-id read from their
//! files with the bounded, no-symlink reads of [`crate::input`].

use crate::input::InputError;
use crate::secret::Secret;
use crate::spec::AppRoleSpec;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CredentialsError {
    #[error("no AppRole {what} at {path}: run `vaultkeeper bootstrap` (first boot) or re-provision this host with `vaultkeeper provision --host NAME`")]
    Missing { what: &'static str, path: PathBuf },
    #[error("AppRole {what} at {path} is refused: {reason}")]
    Refused {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot read AppRole {what} at {path}: {source}")]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("AppRole {what} at {path} is empty: re-run `vaultkeeper bootstrap` with a fresh wrapped token")]
    Empty { what: &'static str, path: PathBuf },
}

/// The role-id and secret-id read from their files.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub role_id: Secret,
    pub secret_id: Secret,
}

/// Reads a credential file with [`crate::input::read`]: no symlink, a regular
/// file of ours, private, at most 4 KiB, UTF-8.
pub(crate) fn read_secret_file(
    what: &'static str,
    path: &Path,
) -> Result<Secret, CredentialsError> {
    let bytes = crate::input::read(path, crate::input::Input::Credential).map_err(|e| match e {
        InputError::NotFound { .. } => CredentialsError::Missing {
            what,
            path: path.to_path_buf(),
        },
        InputError::Refused { reason, .. } => CredentialsError::Refused {
            what,
            path: path.to_path_buf(),
            reason,
        },
        InputError::Io { source, .. } => CredentialsError::Unreadable {
            what,
            path: path.to_path_buf(),
            source,
        },
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| CredentialsError::Refused {
        what,
        path: path.to_path_buf(),
        reason: "it is not UTF-8 text; write the id as bootstrap does".into(),
    })?;
    if text.trim().is_empty() {
        return Err(CredentialsError::Empty {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(Secret::new(text.trim()))
}

pub(crate) fn read_credentials(approle: &AppRoleSpec) -> Result<Credentials, CredentialsError> {
    Ok(Credentials {
        role_id: read_secret_file("role-id", &approle.role_id_file)?,
        secret_id: read_secret_file("secret-id", &approle.secret_id_file)?,
    })
}
