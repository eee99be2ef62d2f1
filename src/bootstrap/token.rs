//! Where the wrapping token comes from: the systemd credential, the
//! configured file, or the environment ([`read_token`]).

use super::error::BootstrapError;
use crate::secret::Secret;
use crate::spec::AppRoleSpec;
use std::path::Path;

/// The systemd credential bootstrap reads first (`LoadCredential=` from
/// `vault.bootstrap.tokenFile`, or `ImportCredential=`).
pub(crate) const CREDENTIAL: &str = "vaultkeeper.wrapped-token";

/// Where the token comes from: the systemd credential [`CREDENTIAL`] in
/// `$CREDENTIALS_DIRECTORY`, else the file when it is configured and exists,
/// else the environment variable.
pub(crate) fn read_token(
    approle: &AppRoleSpec,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Secret, BootstrapError> {
    if let Some(dir) = env("CREDENTIALS_DIRECTORY").filter(|d| d.starts_with('/')) {
        let file = Path::new(&dir).join(CREDENTIAL);
        match crate::input::read(&file, crate::input::Input::WrappedToken) {
            Ok(bytes) => match std::str::from_utf8(&bytes).map(str::trim) {
                Ok(t) if !t.is_empty() => return Ok(Secret::new(t)),
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!(file = %file.display(), "the wrapped-token credential is not UTF-8 text; ignored")
                }
            },
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), "cannot read the wrapped-token credential: {}", e.reason())
            }
        }
    }
    if let Some(file) = &approle.wrapped_token_file {
        match crate::input::read(file, crate::input::Input::WrappedToken) {
            Ok(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| BootstrapError::TokenFile {
                    path: file.clone(),
                    reason: "it is not UTF-8 text; write the token from `vaultkeeper provision --host NAME`".into(),
                })?;
                if !text.trim().is_empty() {
                    return Ok(Secret::new(text.trim()));
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(BootstrapError::TokenFile {
                    path: file.clone(),
                    reason: e.reason(),
                })
            }
        }
    }
    if let Some(var) = &approle.wrapped_token_env {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            return Ok(Secret::new(v.trim()));
        }
    }
    Err(BootstrapError::NoToken {
        env: approle
            .wrapped_token_env
            .clone()
            .unwrap_or_else(|| "(none)".into()),
        file: approle
            .wrapped_token_file
            .as_ref()
            .map_or_else(|| "(none)".into(), |p| p.display().to_string()),
    })
}
