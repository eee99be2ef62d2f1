//! Resolving the spec's owner and group names to ids on this host.

use nix::unistd::{Gid, Group, Uid, User};

pub(crate) fn resolve_user(name: &str) -> Result<Uid, String> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(Uid::from_raw(n));
    }
    match User::from_name(name) {
        Ok(Some(u)) => Ok(u.uid),
        Ok(None) => Err(format!(
            "user {name:?} does not exist on this host; create it or change owner in the spec"
        )),
        Err(e) => Err(format!("cannot look up user {name:?}: {e}")),
    }
}

pub(crate) fn resolve_group(name: &str) -> Result<Gid, String> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(Gid::from_raw(n));
    }
    match Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(format!(
            "group {name:?} does not exist on this host; create it or change group in the spec"
        )),
        Err(e) => Err(format!("cannot look up group {name:?}: {e}")),
    }
}

#[cfg(test)]
mod tests;
