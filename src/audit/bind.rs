//! Binding the audit sockets before anything else, so OpenBao finds the device
//! up: TCP, and `unix:` sockets that appear at their path only with mode 0660
//! and their group.

use crate::spec::audit::address::ListenAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use tokio::net::{TcpListener, UnixListener};

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source} (is another vaultkeeper or program using it? change audit.listen)")]
pub struct BindError {
    pub addr: String,
    #[source]
    pub source: std::io::Error,
}

pub(crate) enum Bound {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

/// Binds every address before anything else, so OpenBao finds the device up.
/// `unix:` sockets get mode 0660 and `group` (a name) before they appear at
/// their path.
pub(crate) async fn bind(
    addrs: &[ListenAddr],
    group: Option<&str>,
) -> Result<Vec<Bound>, BindError> {
    let mut out = Vec::new();
    for a in addrs {
        let err = |source| BindError {
            addr: a.to_string(),
            source,
        };
        match a {
            ListenAddr::Tcp(sa) => out.push(Bound::Tcp(TcpListener::bind(sa).await.map_err(err)?)),
            ListenAddr::Unix(p) => {
                let gid = match group {
                    None => None,
                    Some(g) => Some(group_id(g).map_err(err)?),
                };
                out.push(Bound::Unix(bind_unix(p, gid).map_err(err)?, p.clone()));
            }
        }
    }
    Ok(out)
}

pub(crate) fn group_id(name: &str) -> std::io::Result<nix::unistd::Gid> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("group {name:?} (audit.socketGroup) does not exist; create it or change audit.socketGroup"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Binds in a fresh private (0700) directory beside `path`, where nobody else
/// can connect, sets mode 0660 and the group, then renames the socket into
/// place: at its path it is never reachable with other permissions, whatever
/// the umask.
fn bind_unix(
    path: &std::path::Path,
    gid: Option<nix::unistd::Gid>,
) -> std::io::Result<UnixListener> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no parent directory")
        })?;
    std::fs::create_dir_all(parent)?;
    // A stale socket from a previous run; never remove anything else.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "something that is not a socket is in the way; remove it or change audit.listen",
            ));
        }
    }
    let private = tempfile::Builder::new()
        .prefix(".vaultkeeper-bind.")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(parent)?;
    let tmp = private.path().join("s");
    let l = UnixListener::bind(&tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o660))?;
    if let Some(gid) = gid {
        nix::unistd::chown(&tmp, None, Some(gid))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(l)
}

#[cfg(test)]
mod tests;
