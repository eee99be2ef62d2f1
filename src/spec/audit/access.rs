//! Who may connect to the `unix:` sockets: `audit.socketGroup` and
//! `audit.peerUsers` (the Vault server's group and users).

use super::address::ListenAddr;
use super::raw::UserRef;
use crate::spec::error::Problem;

/// True when `n` cannot be a user or group name (empty, an option, a path, spaces).
fn bad_account_name(n: &str) -> bool {
    n.is_empty()
        || n.starts_with('-')
        || n.contains(|c: char| c == ':' || c == '/' || c.is_whitespace())
}

/// `audit.socketGroup`: a plain group name, and only with a `unix:` listener.
pub(crate) fn socket_group(
    raw: Option<String>,
    listen: &[ListenAddr],
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let socket_group = raw.filter(|g| !g.is_empty());
    if let Some(g) = &socket_group {
        if bad_account_name(g) {
            problems.push(Problem::new(
                "audit.socketGroup",
                format!(
                    "{g:?} is not a group name; write e.g. \"openbao\" (the Vault server's group)"
                ),
            ));
        }
        if !listen.iter().any(|l| matches!(l, ListenAddr::Unix(_))) {
            problems.push(Problem::new(
                "audit.socketGroup",
                "applies to unix: sockets and audit.listen has none; add e.g. \"unix:/run/vaultkeeper/audit.sock\" or remove socketGroup",
            ));
        }
    }
    socket_group
}

/// `audit.peerUsers`: names or uids, kept as strings until binding resolves them.
pub(crate) fn peer_users(raw: Option<Vec<UserRef>>, problems: &mut Vec<Problem>) -> Vec<String> {
    raw.unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, u)| match u {
            UserRef::Id(n) => Some(n.to_string()),
            UserRef::Name(n) if !bad_account_name(&n) => Some(n),
            UserRef::Name(n) => {
                problems.push(Problem::new(
                    format!("audit.peerUsers[{i}]"),
                    format!("{n:?} is not a user name or uid; write e.g. \"openbao\" or 992 (the Vault server's user)"),
                ));
                None
            }
        })
        .collect()
}
