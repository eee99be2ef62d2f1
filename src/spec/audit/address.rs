//! Where the audit listener listens (`audit.listen`) and which remote peers a
//! non-loopback TCP listener accepts (`audit.allowFrom`).

use crate::spec::error::Problem;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(a) => write!(f, "tcp:{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl ListenAddr {
    pub(crate) fn parse(s: &str) -> Result<ListenAddr, String> {
        if let Some(rest) = s.strip_prefix("tcp:") {
            return rest
                .parse::<SocketAddr>()
                .map(ListenAddr::Tcp)
                .map_err(|_| format!("{s:?}: {rest:?} is not an IP address and port; write e.g. \"tcp:127.0.0.1:9090\""));
        }
        if let Some(rest) = s.strip_prefix("unix:") {
            let p = PathBuf::from(rest);
            if !p.is_absolute() || p.parent().is_none() {
                return Err(format!("{s:?}: a unix socket needs an absolute path, e.g. \"unix:/run/vaultkeeper/audit.sock\""));
            }
            return Ok(ListenAddr::Unix(p));
        }
        Err(format!(
            "{s:?} is not a listen address; write \"tcp:127.0.0.1:9090\" or \"unix:/run/vaultkeeper/audit.sock\""
        ))
    }
}

/// An address block: `10.0.0.5` or `10.0.0.0/24` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        };
        Some(Cidr { addr, prefix })
    }

    /// True when `ip` (IPv4-mapped IPv6 counts as IPv4) is inside the block.
    pub(crate) fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `audit.listen`; `need_listen`: the section came from a spec, so at least
/// one address is required.
pub(crate) fn listen(
    raw: &[String],
    need_listen: bool,
    problems: &mut Vec<Problem>,
) -> Vec<ListenAddr> {
    let mut listen = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        match ListenAddr::parse(l) {
            Ok(a) => listen.push(a),
            Err(m) => problems.push(Problem::new(format!("audit.listen[{i}]"), m)),
        }
    }
    if need_listen && raw.is_empty() {
        problems.push(Problem::new(
            "audit.listen",
            "give at least one address for OpenBao's socket audit device, e.g. [\"tcp:127.0.0.1:9090\"]",
        ));
    }
    listen
}

/// `audit.allowFrom`: addresses or CIDR blocks.
pub(crate) fn allow_from(raw: Option<Vec<String>>, problems: &mut Vec<Problem>) -> Vec<Cidr> {
    let mut allow_from = Vec::new();
    for (i, a) in raw.unwrap_or_default().iter().enumerate() {
        match Cidr::parse(a) {
            Some(c) => allow_from.push(c),
            None => problems.push(Problem::new(
                format!("audit.allowFrom[{i}]"),
                format!("{a:?} is not an IP address or CIDR block; write e.g. \"10.0.0.5\" or \"10.0.0.0/24\""),
            )),
        }
    }
    allow_from
}

/// A TCP listener off loopback needs `audit.allowFrom`.
pub(crate) fn check_remote_listeners(
    listen: &[ListenAddr],
    allow_from: &[Cidr],
    problems: &mut Vec<Problem>,
) {
    for (i, l) in listen.iter().enumerate() {
        if let ListenAddr::Tcp(sa) = l {
            if !sa.ip().is_loopback() && allow_from.is_empty() {
                problems.push(Problem::new(
                    format!("audit.listen[{i}]"),
                    format!("{l} is not a loopback address: a remote listener needs audit.allowFrom (the Vault servers' addresses); for a local server use \"tcp:127.0.0.1:PORT\" or a unix: socket"),
                ));
            }
        }
    }
}
