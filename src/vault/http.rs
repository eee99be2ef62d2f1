//! The one HTTP policy for every call to Vault (see `docs/explanation/security-model.md`,
//! "Where credentials can go"):
//!
//! - **Redirects** are never followed by the HTTP library. A 307/308 (what a Vault
//!   standby answers) is followed by [`super::client::VaultClient::call`] only to an origin in
//!   the configured list ([`Policy::allowed`]), with the same scheme or an upgrade
//!   to https, never https → http, at most [`MAX_HOPS`] times. Anything else is a
//!   [`VaultError::RedirectRefused`] naming both origins, and nothing (no token, no
//!   login body) is sent to the other origin.
//! - **Bodies** are read chunk by chunk and refused past [`Policy::max_body`]
//!   (`vault.maxResponseSize`), before they are whole in memory.
//! - **TLS** is the spec's: the CA bundle comes from `vault.caCert` only (checked
//!   here, see [`load_ca_bundle`]), and a certificate that does not verify is a
//!   [`VaultError::TlsUntrusted`] or [`VaultError::TlsHostname`], never "unreachable".

use super::error::VaultError;
use crate::spec::Origin;
use reqwest::Url;
use std::path::Path;

/// At most this many redirects are followed for one request.
pub(crate) const MAX_HOPS: usize = 3;

/// Largest CA bundle file read (a bundle of every public CA is about 250 KiB).
const MAX_CA_FILE: u64 = 4 * 1024 * 1024;

/// Where requests may go and how much may come back.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The configured Vault addresses' origins; redirects may go to these only.
    pub allowed: Vec<Origin>,
    /// `vault.maxResponseSize` in bytes.
    pub max_body: u64,
}

impl Policy {
    /// The policy for these configured addresses (today `vault.address`; a list
    /// of addresses only adds entries here).
    pub(crate) fn new<'a>(addresses: impl IntoIterator<Item = &'a str>, max_body: u64) -> Policy {
        Policy {
            allowed: addresses.into_iter().filter_map(Origin::parse).collect(),
            max_body,
        }
    }

    /// The URL a redirect from `from` to `location` leads to, if the policy lets
    /// the request follow it. `location` may be relative.
    pub(crate) fn follow(&self, from: &Url, location: &str) -> Result<Url, VaultError> {
        let from_origin = Origin::of(from).map_or_else(|| from.to_string(), |o| o.to_string());
        let refuse = |to: String, reason: &str| VaultError::RedirectRefused {
            from: from_origin.clone(),
            to,
            reason: reason.to_string(),
        };
        let to = from
            .join(location)
            .map_err(|_| refuse(location.to_string(), "the Location header is not a URL"))?;
        let Some(target) = Origin::of(&to) else {
            return Err(refuse(to.to_string(), "it has no host or port"));
        };
        let from_scheme = from.scheme();
        if target.scheme != "http" && target.scheme != "https" {
            return Err(refuse(target.to_string(), "it is not http or https"));
        }
        if from_scheme == "https" && target.scheme == "http" {
            return Err(refuse(
                target.to_string(),
                "it would downgrade https to plain http",
            ));
        }
        // The target must be configured, with its scheme; an http → https upgrade
        // of a configured http origin is allowed too.
        let listed = self.allowed.iter().any(|a| {
            a == &target
                || (a.same_endpoint(&target) && a.scheme == "http" && target.scheme == "https")
        });
        if !listed {
            return Err(refuse(
                target.to_string(),
                "it is not one of the configured Vault addresses (vault.address)",
            ));
        }
        Ok(to)
    }
}

/// Reads a response body, refusing it as soon as it passes `max` bytes (a
/// `Content-Length` above `max` is refused before reading anything).
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    max: u64,
    path: &str,
) -> Result<Vec<u8>, BodyError> {
    let too_large = || BodyError::TooLarge {
        path: path.to_string(),
        limit: max,
    };
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let hint = resp.content_length().unwrap_or(0).min(64 * 1024) as usize;
    let mut buf = Vec::with_capacity(hint);
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if (buf.len() as u64).saturating_add(chunk.len() as u64) > max {
            zeroize::Zeroize::zeroize(&mut buf);
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge { path: String, limit: u64 },
    Transport(reqwest::Error),
}

/// What a certificate failure says, found in an error's source chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsFailure {
    /// The chain does not lead to a trusted CA (or is expired, revoked, badly signed).
    Untrusted,
    /// The certificate is valid but for other names than the address's host.
    Hostname,
}

/// Looks through `e`'s causes for rustls' certificate verdict. `io::Error`
/// hides the error it wraps from `source()`, so it is opened explicitly.
pub(crate) fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<(TlsFailure, String)> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(found) = rustls_verdict(err) {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = tls_failure(inner) {
                    return Some(found);
                }
            }
        }
        cur = err.source();
    }
    None
}

fn rustls_verdict(err: &(dyn std::error::Error + 'static)) -> Option<(TlsFailure, String)> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(c) = err.downcast_ref::<rustls::Error>()? else {
        return None;
    };
    let kind = match c {
        C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::Hostname,
        _ => TlsFailure::Untrusted,
    };
    Some((kind, err.to_string()))
}

/// Reads and checks `vault.caCert`: a regular file of at most 4 MiB holding at
/// least one PEM certificate, every one of them a parseable X.509 certificate.
/// The message says what is wrong with the file (it never quotes its content).
pub(crate) fn load_ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_CA_FILE {
        return Err(format!(
            "it is larger than {} MiB; a CA bundle is a few KiB",
            MAX_CA_FILE >> 20
        ));
    }
    let mut certs = Vec::new();
    for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(&bytes).enumerate() {
        let pem = pem.map_err(|e| format!("PEM block {} is malformed ({e})", i + 1))?;
        if pem.label != "CERTIFICATE" {
            return Err(format!(
                "PEM block {} is a {:?}, not a CERTIFICATE",
                i + 1,
                pem.label
            ));
        }
        pem.parse_x509()
            .map_err(|e| format!("certificate {} is not valid X.509 ({e})", i + 1))?;
        certs.push(
            reqwest::Certificate::from_der(&pem.contents)
                .map_err(|e| format!("certificate {} cannot be used ({e})", i + 1))?,
        );
    }
    if certs.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests;
