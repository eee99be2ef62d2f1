//! Rendering a secret as one file per key, switched atomically as a whole.
//!
//! Layout for `outputDir = /run/secrets/grafana`:
//!
//! ```text
//! /run/secrets/grafana -> .grafana.vaultkeeper/g7      (symlink, replaced by rename)
//! /run/secrets/.grafana.vaultkeeper/       root 0711
//! /run/secrets/.grafana.vaultkeeper/g7/    owner:group, r-x for the classes the mode allows
//! /run/secrets/.grafana.vaultkeeper/g7/password   owner:group, mode
//! ```
//!
//! A new generation is written completely (owner and mode set before any byte,
//! each file fsynced, then the directory) before one `rename` of a fresh symlink
//! over `outputDir` publishes it. A reader that resolves `outputDir` once (opens
//! the directory, then reads the files relative to it) sees one generation, never
//! a mix. The previous generation is kept so such readers can finish; older ones
//! are removed. Keys deleted in Vault are simply absent from the new generation.

pub(crate) mod debris;
mod error;
mod generation;
pub(crate) mod keys;
mod layout;
pub(crate) mod owner;

pub(crate) use error::RenderError;

use crate::fs;
use crate::paths::walk::WalkError;
use crate::spec::SecretSpec;
use crate::vault::kv::SecretData;
use generation::{generation_matches, publish, write_generation};
use layout::{
    check_ours, generation_number, is_generation_name, paths, previous_of, what_is_at, AtOutput,
};

/// What a render did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// A new generation was published.
    Changed {
        /// The new generation's name (`g8`).
        generation: String,
        /// How many key files it holds.
        files: usize,
    },
    /// The current generation already holds exactly this data, owner and mode.
    Unchanged,
}

/// Writes `data` as the new generation of `secret`'s outputDir, unless the
/// current generation is already identical.
///
/// The caller holds the secret's [`crate::lock::SecretLock`]: this function
/// first removes the debris of earlier renders that died (link temporaries,
/// unpublished and surplus generations), and assumes no other writer.
pub fn render(secret: &SecretSpec, data: &SecretData) -> Result<Rendered, RenderError> {
    let name = &secret.name;
    let files = keys::files_for(data).map_err(|message| RenderError::InvalidKey {
        secret: name.clone(),
        message,
    })?;
    let account = |message| RenderError::Account {
        secret: name.clone(),
        message,
    };
    let uid = owner::resolve_user(&secret.owner).map_err(account)?;
    let gid = owner::resolve_group(&secret.group).map_err(account)?;
    let fs = |source| RenderError::Fs {
        secret: name.clone(),
        source,
    };

    let p = paths(&secret.output_dir);
    let parent = crate::paths::walk::open_dir(&p.parent, Some(0o755)).map_err(|e| match e {
        WalkError::Unsafe { .. } => RenderError::Unsafe {
            secret: name.clone(),
            path: secret.output_dir.clone(),
            reason: e.to_string(),
        },
        WalkError::Fs(source) => fs(source),
    })?;
    fs::mkdir_at(&parent, &p.gens, 0o711, &p.parent).map_err(fs)?;
    let gens_label = p.parent.join(&p.gens);
    let gens = fs::open_subdir(&parent, &p.gens, &gens_label).map_err(fs)?;
    check_ours(&gens, &gens_label).map_err(fs)?;

    debris::clean_link_temps(&parent, &p.parent, &p.leaf, &secret.output_dir).map_err(fs)?;
    let at_output = what_is_at(&parent, &p);
    let current = match &at_output {
        AtOutput::Ours(g) => Some(g.clone()),
        _ => None,
    };
    // Keep the published generation and the newest one before it; everything
    // else (unpublished generations of a render that died, older ones) goes.
    let existing = fs::list_dir(&gens, &gens_label).map_err(fs)?;
    let previous = previous_of(&existing, current.as_deref());
    for old in existing.iter().filter(|n| is_generation_name(n)) {
        if Some(old) != current.as_ref() && Some(old) != previous.as_ref() {
            fs::remove_tree_at(&gens, old, &gens_label).map_err(fs)?;
        }
    }
    if let Some(cur) = &current {
        if generation_matches(&gens, cur, &files, uid, gid, secret.mode, &gens_label) {
            return Ok(Rendered::Unchanged);
        }
    }
    if let AtOutput::File = at_output {
        return Err(RenderError::InTheWay {
            secret: name.clone(),
            path: secret.output_dir.clone(),
            what: "a file, not a directory",
        });
    }

    // Write the new generation completely, unpublished, under a name no other
    // generation has (numbers only grow; mkdir must create it).
    let mut next = existing
        .iter()
        .filter_map(|n| generation_number(n))
        .max()
        .map_or(1, |n| n + 1);
    let gen = loop {
        let gen = format!("g{next}");
        if fs::mkdir_at(&gens, &gen, 0o700, &gens_label).map_err(fs)? {
            break gen;
        }
        next += 1;
    };
    let gen_label = gens_label.join(&gen);
    let written = write_generation(&gens, &gen, &gen_label, &files, uid, gid, secret.mode);
    let published =
        written.and_then(|()| publish(&parent, &p, &gen, &secret.output_dir, &at_output));
    if let Err(source) = published {
        // Never leave a partial generation: a full disk would stay full.
        let _ = fs::remove_tree_at(&gens, &gen, &gens_label);
        let _ = fs::fsync_dir(&gens, &gens_label);
        let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
        return Err(match source.source.raw_os_error() {
            Some(nix::libc::ENOSPC) | Some(nix::libc::EDQUOT) => RenderError::NoSpace {
                secret: name.clone(),
                dir: p.parent.clone(),
                bytes,
                source,
            },
            _ => fs(source),
        });
    }

    // Keep the generation just published and the one before it.
    for old in [previous].into_iter().flatten() {
        fs::remove_tree_at(&gens, &old, &gens_label).map_err(fs)?;
    }
    if let Some(w) = crate::spec::mode::exec_warning(secret.mode) {
        tracing::warn!("secret {name}: {w}");
    }
    Ok(Rendered::Changed {
        generation: gen,
        files: files.len(),
    })
}

#[cfg(test)]
mod tests;
