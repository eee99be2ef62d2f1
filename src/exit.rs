//! Process exit codes, documented in `docs/reference/cli.md`. Scripts and systemd
//! units may rely on them; never renumber one.

/// Success, including "served from the cache because Vault is unreachable".
pub(crate) const OK: u8 = 0;
/// An unexpected internal error.
pub(crate) const INTERNAL: u8 = 1;
/// The command line or the spec is invalid.
pub(crate) const USAGE: u8 = 2;
/// AppRole credentials are missing or Vault rejected them.
pub(crate) const CREDENTIALS: u8 = 3;
/// Vault denied reading a secret (policy).
pub(crate) const DENIED: u8 = 4;
/// A secret does not exist at its path.
pub(crate) const NOT_FOUND: u8 = 5;
/// Vault is unreachable and there is no usable cache.
pub(crate) const UNREACHABLE: u8 = 6;
/// Writing the files failed (bad key name, unknown owner, file system).
pub(crate) const RENDER: u8 = 7;
/// Vault answered something we cannot understand.
pub(crate) const MALFORMED: u8 = 8;
/// bootstrap --strict: the wrapping token was already used.
pub(crate) const TOKEN_USED: u8 = 10;
/// bootstrap --strict: the wrapping token expired.
pub(crate) const TOKEN_EXPIRED: u8 = 11;
/// bootstrap --strict: the wrapping token was not created where we expect (possibly swapped).
pub(crate) const TOKEN_FOREIGN: u8 = 12;
/// bootstrap --strict: no wrapping token was found, or it is invalid for another reason.
pub(crate) const TOKEN_MISSING: u8 = 13;
/// bootstrap --strict: the unwrapped credentials log in as another AppRole role
/// than this host's (`approle.roleName`); nothing was stored.
pub(crate) const TOKEN_WRONG_ROLE: u8 = 14;
/// status, posture, report: the server is sealed (`status` still prints what it saw).
pub(crate) const SEALED: u8 = 20;
/// The TLS certificate of Vault does not lead to a trusted CA (`vault.caCert`):
/// possibly an attack.
pub(crate) const TLS_UNTRUSTED: u8 = 30;
/// The TLS certificate of Vault is not valid for the address's host name:
/// possibly an attack.
pub(crate) const TLS_HOSTNAME: u8 = 31;
/// Vault redirected to an origin that is not configured, or from https to http,
/// or more than 3 times; nothing was sent there.
pub(crate) const REDIRECT_REFUSED: u8 = 32;
/// A Vault answer was larger than `vault.maxResponseSize`; refused unread.
pub(crate) const RESPONSE_TOO_LARGE: u8 = 33;
