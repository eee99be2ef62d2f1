//! [`OnChange`]: what happens to a secret's or a template's services when its
//! files change (`onChange`).

/// `onChange` of a secret or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    Restart,
    Reload,
    None,
}
