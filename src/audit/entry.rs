//! A typed, borrowing view of one audit entry: only the fields the rules read.
//! `data` objects stay unparsed ([`RawValue`]) until a rule needs them. Client
//! tokens are never read; accessors and string values are HMACs anyway.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

type Str<'a> = Cow<'a, str>;

#[derive(Debug, Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Str<'a>,
    #[serde(default, borrow)]
    pub time: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub auth: Option<Auth<'a>>,
    #[serde(default, borrow)]
    pub request: Option<Request<'a>>,
    #[serde(default, borrow)]
    pub response: Option<Response<'a>>,
    #[serde(default, borrow)]
    pub error: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Auth<'a> {
    #[serde(default, borrow)]
    pub accessor: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub display_name: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub policies: Vec<Str<'a>>,
    #[serde(default)]
    pub token_ttl: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Request<'a> {
    #[serde(default, borrow)]
    pub id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub operation: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub path: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub mount_type: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub remote_address: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub data: Option<&'a RawValue>,
    /// The namespace a request ran in (OpenBao/Vault Enterprise).
    #[serde(default, borrow)]
    pub namespace: Option<Namespace<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Namespace<'a> {
    #[serde(default, borrow)]
    pub path: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Response<'a> {
    #[serde(default, borrow)]
    pub auth: Option<Auth<'a>>,
    #[serde(default, borrow)]
    pub data: Option<&'a RawValue>,
}

impl<'a> Entry<'a> {
    /// Parses one line. serde_json's recursion limit (128) bounds nesting.
    pub(crate) fn parse(line: &'a str) -> Result<Entry<'a>, serde_json::Error> {
        serde_json::from_str(line)
    }

    pub(crate) fn is_request(&self) -> bool {
        self.kind == "request"
    }

    pub(crate) fn is_response(&self) -> bool {
        self.kind == "response"
    }

    pub(crate) fn path(&self) -> &str {
        self.request
            .as_ref()
            .and_then(|r| r.path.as_deref())
            .unwrap_or("")
    }

    pub(crate) fn operation(&self) -> &str {
        self.request
            .as_ref()
            .and_then(|r| r.operation.as_deref())
            .unwrap_or("")
    }

    pub(crate) fn request_id(&self) -> &str {
        self.request
            .as_ref()
            .and_then(|r| r.id.as_deref())
            .unwrap_or("")
    }

    pub(crate) fn remote_address(&self) -> &str {
        self.request
            .as_ref()
            .and_then(|r| r.remote_address.as_deref())
            .unwrap_or("")
    }

    /// The namespace path (`team-a/`), empty for the root namespace.
    pub(crate) fn namespace(&self) -> &str {
        self.request
            .as_ref()
            .and_then(|r| r.namespace.as_ref())
            .and_then(|n| n.path.as_deref())
            .unwrap_or("")
    }

    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref().filter(|e| !e.is_empty())
    }

    /// The caller's policies contain `root`.
    pub(crate) fn caller_is_root(&self) -> bool {
        self.auth
            .as_ref()
            .is_some_and(|a| a.policies.iter().any(|p| p == "root"))
    }

    /// The token this response hands out (login, token create), if any.
    pub(crate) fn new_token(&self) -> Option<&Auth<'a>> {
        self.response.as_ref().and_then(|r| r.auth.as_ref())
    }

    /// A top-level field of `request.data`, parsed on demand.
    pub(crate) fn request_field(&self, key: &str) -> Option<serde_json::Value> {
        field(self.request.as_ref()?.data?, key)
    }

    pub(crate) fn response_field(&self, key: &str) -> Option<serde_json::Value> {
        field(self.response.as_ref()?.data?, key)
    }
}

fn field(raw: &RawValue, key: &str) -> Option<serde_json::Value> {
    let map: std::collections::HashMap<Cow<'_, str>, serde_json::Value> =
        serde_json::from_str(raw.get()).ok()?;
    map.get(key).cloned()
}

/// A value the audit device HMAC'd (unreadable by design).
pub(crate) fn is_hmac(v: &str) -> bool {
    v.starts_with("hmac-sha256:")
}

#[cfg(test)]
mod tests;
