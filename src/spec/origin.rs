//! The origin of a Vault address (`scheme://host:port`, the port explicit):
//! how the spec tells two addresses apart and the client judges a redirect.

use reqwest::Url;

/// scheme://host:port with the port made explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    pub(crate) fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    pub(crate) fn parse(addr: &str) -> Option<Origin> {
        Origin::of(&Url::parse(addr).ok()?)
    }

    /// Same host and port, whatever the scheme.
    pub(crate) fn same_endpoint(&self, other: &Origin) -> bool {
        self.host == other.host && self.port == other.port
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}
