//! The `audit` section as the audit code uses it: the types live in
//! [`crate::spec::audit`] (re-exported here), and [`from_json`] reads the
//! section on its own for `audit replay --spec`, benches and fuzzing.

pub(crate) use crate::spec::audit::*;

use crate::spec::{Spec, SpecError};

/// Parses just an `audit` section (as JSON text), for `audit replay --spec` on a
/// file that is a whole spec or only its `audit` object.
pub fn from_json(file: &str, text: &str) -> Result<AuditSpec, SpecError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| SpecError::Invalid {
        file: file.to_string(),
        path: "(top level)".into(),
        message: format!("not JSON: {e}"),
    })?;
    if value.get("vault").is_some() {
        let spec = Spec::from_json(file, text)?;
        return Ok(spec.audit.unwrap_or_else(AuditSpec::defaults));
    }
    let section = value.get("audit").cloned().unwrap_or(value);
    let raw: RawAudit =
        serde_path_to_error::deserialize(section).map_err(|e| SpecError::Invalid {
            file: file.to_string(),
            path: format!("audit.{}", e.path()),
            message: e.inner().to_string(),
        })?;
    let mut problems = Vec::new();
    let spec = resolve(raw, false, &mut problems);
    if problems.is_empty() {
        Ok(spec)
    } else {
        Err(crate::spec::error_from_problems(file, problems))
    }
}

#[cfg(test)]
mod tests;
