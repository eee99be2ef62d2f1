//! Who is on the other end of an audit connection, and whether to read it.
//!
//! - unix sockets: `SO_PEERCRED` (the connecting process's uid);
//! - loopback TCP: the peer's own socket is the one whose local address is
//!   the peer's address and whose remote address is ours. The kernel says who
//!   owns it through `sock_diag` (netlink, one exact lookup by address and
//!   port, as `ss` does); where netlink is not allowed, the same row is looked
//!   up in `/proc/net/tcp{,6}` (slower with many sockets). A socket without an
//!   inode (the peer already closed it, TIME_WAIT) proves nothing and is
//!   refused;
//! - remote TCP: the source address must be in `audit.allowFrom`.
//!
//! Allowed users are `audit.peerUsers` (the Vault server's), or root and the
//! agent's own user when none are given.

use crate::spec::audit::address::Cidr;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("user {name:?} (audit.peerUsers) does not exist; create it or change audit.peerUsers")]
    NoSuchUser { name: String },
    #[error("cannot look up user {name:?} (audit.peerUsers): {source}")]
    Lookup {
        name: String,
        #[source]
        source: nix::Error,
    },
}

/// Who may send audit lines.
#[derive(Debug, Clone)]
pub(crate) struct PeerPolicy {
    pub uids: Vec<u32>,
    pub allow_from: Vec<Cidr>,
    /// On unix sockets, a process whose group is `audit.socketGroup` (the one
    /// the socket file grants access to) is the Vault server too.
    pub socket_gid: Option<u32>,
}

impl PeerPolicy {
    /// Resolves user names; empty = root and the agent's own user.
    pub(crate) fn resolve(users: &[String], allow_from: &[Cidr]) -> Result<PeerPolicy, PeerError> {
        let mut uids = Vec::new();
        for u in users {
            if let Ok(n) = u.parse::<u32>() {
                uids.push(n);
                continue;
            }
            match nix::unistd::User::from_name(u) {
                Ok(Some(user)) => uids.push(user.uid.as_raw()),
                Ok(None) => return Err(PeerError::NoSuchUser { name: u.clone() }),
                Err(source) => {
                    return Err(PeerError::Lookup {
                        name: u.clone(),
                        source,
                    })
                }
            }
        }
        if uids.is_empty() {
            uids.push(0);
            uids.push(nix::unistd::geteuid().as_raw());
        }
        uids.sort_unstable();
        uids.dedup();
        Ok(PeerPolicy {
            uids,
            allow_from: allow_from.to_vec(),
            socket_gid: None,
        })
    }

    pub(crate) fn uid_allowed(&self, uid: u32) -> bool {
        self.uids.contains(&uid)
    }

    /// Checks a unix-socket peer's credentials.
    pub(crate) fn check_unix(&self, uid: u32, gid: u32) -> Result<String, String> {
        if self.uid_allowed(uid) {
            Ok(format!("uid {uid}"))
        } else if self.socket_gid == Some(gid) {
            Ok(format!("uid {uid} (group {gid}, audit.socketGroup)"))
        } else {
            Err(format!(
                "uid {uid} (group {gid}) is neither an allowed peer user nor in audit.socketGroup"
            ))
        }
    }

    /// Checks a TCP peer; `Ok(description)` or `Err(why refused)`.
    pub(crate) fn check_tcp(&self, ours: SocketAddr, peer: SocketAddr) -> Result<String, String> {
        let ip = normalize(peer.ip());
        if !ip.is_loopback() {
            return if self.allow_from.iter().any(|c| c.contains(ip)) {
                Ok(format!("{peer}"))
            } else {
                Err(format!("{ip} is not in audit.allowFrom"))
            };
        }
        match tcp_peer_uid(ours, peer) {
            Ok(Some(uid)) if self.uid_allowed(uid) => Ok(format!("uid {uid} via {peer}")),
            Ok(Some(uid)) => Err(format!("uid {uid} is not an allowed peer user")),
            Ok(None) => Err("no live socket owns the peer address".into()),
            Err(e) => Err(format!("cannot read /proc/net/tcp: {e}")),
        }
    }
}

fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn normalize_sa(sa: SocketAddr) -> SocketAddr {
    SocketAddr::new(normalize(sa.ip()), sa.port())
}

/// The uid owning the socket at `peer` connected to `ours`: `sock_diag`,
/// else `/proc/net/tcp{,6}`; `None` when no live socket matches.
pub(crate) fn tcp_peer_uid(ours: SocketAddr, peer: SocketAddr) -> std::io::Result<Option<u32>> {
    match diag::owner(ours, peer) {
        Ok(found) => Ok(found),
        Err(_) => proc_peer_uid(ours, peer),
    }
}

/// [`tcp_peer_uid`] from `/proc/net/tcp{,6}`.
pub(crate) fn proc_peer_uid(ours: SocketAddr, peer: SocketAddr) -> std::io::Result<Option<u32>> {
    let (ours, peer) = (normalize_sa(ours), normalize_sa(peer));
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if let Some(uid) = find_owner(&text, ours, peer) {
            return Ok(Some(uid));
        }
    }
    Ok(None)
}

fn find_owner(table: &str, ours: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let (ours, peer) = (normalize_sa(ours), normalize_sa(peer));
    for row in table.lines().skip(1) {
        let f: Vec<&str> = row.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let (Some(local), Some(remote)) = (parse_addr(f[1]), parse_addr(f[2])) else {
            continue;
        };
        if local != peer || remote != ours {
            continue;
        }
        let inode: u64 = f[9].parse().unwrap_or(0);
        if inode == 0 {
            continue;
        }
        return f[7].parse().ok();
    }
    None
}

/// `0100007F:1F90` (IPv4, each 32-bit word in host order) or 32 hex digits (IPv6).
fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let word = |h: &str| u32::from_str_radix(h, 16).ok().map(u32::to_ne_bytes);
    let ip = match a.len() {
        8 => IpAddr::from(word(a)?),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(&a[i * 8..i * 8 + 8])?);
            }
            IpAddr::from(b)
        }
        _ => return None,
    };
    Some(normalize_sa(SocketAddr::new(ip, port)))
}

/// One exact `sock_diag` lookup (netlink, `NETLINK_SOCK_DIAG`).
mod diag {
    use super::normalize_sa;
    use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
    use netlink_packet_sock_diag::{
        constants::{AF_INET, AF_INET6, IPPROTO_TCP},
        inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
        SockDiagMessage,
    };
    use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr as NlAddr};
    use std::io::{Error, ErrorKind};
    use std::net::{IpAddr, SocketAddr};

    /// The owner uid of the TCP socket bound to `peer` and connected to
    /// `ours`; `Ok(None)` when there is none (or it has no inode: closed).
    pub(super) fn owner(ours: SocketAddr, peer: SocketAddr) -> std::io::Result<Option<u32>> {
        let (ours, peer) = (normalize_sa(ours), normalize_sa(peer));
        let mut families = vec![];
        match (ours.ip(), peer.ip()) {
            (IpAddr::V4(o), IpAddr::V4(p)) => {
                families.push((AF_INET, IpAddr::V4(p), IpAddr::V4(o)));
                families.push((
                    AF_INET6,
                    IpAddr::V6(p.to_ipv6_mapped()),
                    IpAddr::V6(o.to_ipv6_mapped()),
                ));
            }
            (o, p) => families.push((AF_INET6, p, o)),
        }
        for (family, src, dst) in families {
            if let Some(uid) = lookup(family, src, peer.port(), dst, ours.port())? {
                return Ok(Some(uid));
            }
        }
        Ok(None)
    }

    fn lookup(
        family: u8,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> std::io::Result<Option<u32>> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind_auto()?;
        socket.connect(&NlAddr::new(0, 0))?;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST;
        let mut id = if family == AF_INET {
            SocketId::new_v4()
        } else {
            SocketId::new_v6()
        };
        id.source_address = src;
        id.source_port = sport;
        id.destination_address = dst;
        id.destination_port = dport;
        id.cookie = [0xff; 8]; // INET_DIAG_NOCOOKIE: find by the addresses
        let mut packet = NetlinkMessage::new(
            header,
            SockDiagMessage::InetRequest(InetRequest {
                family,
                protocol: IPPROTO_TCP,
                extensions: ExtensionFlags::empty(),
                states: StateFlags::all(),
                socket_id: id,
            })
            .into(),
        );
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf[..]);
        socket.send(&buf[..], 0)?;
        let mut rx = vec![0u8; 8192];
        let n = socket.recv(&mut &mut rx[..], 0)?;
        let msg = <NetlinkMessage<SockDiagMessage>>::deserialize(&rx[..n])
            .map_err(|e| Error::new(ErrorKind::InvalidData, format!("sock_diag answer: {e}")))?;
        match msg.payload {
            NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                Ok((r.header.inode != 0).then_some(r.header.uid))
            }
            NetlinkPayload::Error(e) => match e.code {
                // ENOENT: no such socket.
                Some(c) if c.get() == -2 => Ok(None),
                _ => Err(Error::other(format!("sock_diag: {e:?}"))),
            },
            other => Err(Error::other(format!(
                "sock_diag: unexpected answer {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
