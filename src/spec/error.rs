//! Errors of loading and validating a spec. Each names the JSON path at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec {path}: {source}; pass the right file with --spec")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {path}: {message}")]
    Invalid {
        file: String,
        path: String,
        message: String,
    },
    /// No spec file, and nothing in the environment says where Vault is.
    #[error("no spec at {} and neither BAO_ADDR nor VAULT_ADDR is set: nothing says where Vault is; export BAO_ADDR=https://vault.example:8200 (or VAULT_ADDR), or pass --spec FILE", path.display())]
    NoAddress { path: PathBuf },
    /// No spec file, and the spec made from the environment is invalid.
    #[error("no spec at {}", path.display())]
    FromEnv {
        path: PathBuf,
        #[source]
        source: Box<SpecError>,
    },
    #[error("{file}: {count} problems:\n{list}")]
    Many {
        file: String,
        count: usize,
        list: String,
    },
}

/// One validation finding: a JSON path and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

pub(crate) fn from_problems(file: &str, mut problems: Vec<Problem>) -> SpecError {
    if problems.len() == 1 {
        let p = problems.remove(0);
        return SpecError::Invalid {
            file: file.to_string(),
            path: p.path,
            message: p.message,
        };
    }
    let list = problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n");
    SpecError::Many {
        file: file.to_string(),
        count: problems.len(),
        list,
    }
}
