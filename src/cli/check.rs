//! `vaultkeeper check`: the spec validated offline, as the NixOS build runs it.

use crate::spec::{Spec, SpecError};
use std::path::Path;

/// `check`: a `vault.caCert` that exists must be a usable CA bundle (a missing
/// one may be deployed later, e.g. at build time on another machine).
fn check_ca_cert(path: &Path, spec: &Spec) -> Result<(), SpecError> {
    let Some(ca) = &spec.vault.ca_cert else {
        return Ok(());
    };
    if std::fs::symlink_metadata(ca).is_err() {
        return Ok(());
    }
    crate::vault::http::load_ca_bundle(ca)
        .map(|_| ())
        .map_err(|why| SpecError::Invalid {
            file: path.display().to_string(),
            path: "vault.caCert".into(),
            message: format!(
                "{} is unusable: {why}; point it at the PEM bundle of the CA that signed Vault's certificate",
                ca.display()
            ),
        })
}

/// `check`: prints what the spec holds (exit 0) or fails with every problem (exit 2).
pub(crate) fn check(spec_path: &Path) -> anyhow::Result<u8> {
    let spec = Spec::load(spec_path)?;
    for w in spec.warnings() {
        tracing::warn!("{}: {w}", spec_path.display());
    }
    check_ca_cert(spec_path, &spec)?;
    println!(
        "{}: valid, {} secret(s), {} template(s)",
        spec_path.display(),
        spec.secrets.len(),
        spec.templates.len()
    );
    Ok(crate::exit::OK)
}
