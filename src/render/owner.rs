//! Resolving the spec's owner and group names to ids on this host.

use nix::unistd::{Gid, Group, Uid, User};

pub fn resolve_user(name: &str) -> Result<Uid, String> {
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

pub fn resolve_group(name: &str) -> Result<Gid, String> {
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
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(resolve_user("root").unwrap(), Uid::from_raw(0));
        assert_eq!(resolve_user("1234").unwrap(), Uid::from_raw(1234));
        assert_eq!(resolve_group("0").unwrap(), Gid::from_raw(0));
        assert!(resolve_user("no-such-user-vk")
            .unwrap_err()
            .contains("does not exist"));
    }
}
