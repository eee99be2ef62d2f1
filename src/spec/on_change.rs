//! [`OnChange`]: what happens to a secret's or a template's services when its
//! files change (`onChange`).

/// `onChange` of a secret or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// `systemctl restart` the services.
    Restart,
    /// `systemctl reload` the services.
    Reload,
    /// Leave the services alone.
    None,
}
