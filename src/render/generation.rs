//! One generation: written whole before it is visible ([`write_generation`]),
//! compared with the data ([`generation_matches`]), published by one rename of
//! a fresh symlink ([`publish`]).

use super::debris;
use super::layout::{AtOutput, Paths};
use crate::fs::{self, fs_err, FsError};
use crate::spec::mode::dir_mode_for;
use nix::fcntl::{renameat, renameat2, RenameFlags};
use nix::sys::stat::{fchmod, fstat, Mode};
use nix::unistd::{fchown, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::os::fd::AsFd;
use std::path::Path;

/// Writes every file of generation `gen` (owner and mode before any byte),
/// then the directory's owner and mode, and fsyncs.
pub(super) fn write_generation(
    gens: &impl AsFd,
    gen: &str,
    gen_label: &Path,
    files: &[(String, Vec<u8>)],
    uid: Uid,
    gid: Gid,
    mode: u32,
) -> Result<(), FsError> {
    let gens_label = gen_label.parent().unwrap_or(gen_label);
    let gen_fd = fs::open_subdir(gens, gen, gen_label)?;
    for (key, bytes) in files {
        fs::create_file(&gen_fd, key, bytes, mode, Some((uid, gid)), gen_label)?;
    }
    fchown(&gen_fd, Some(uid), Some(gid))
        .map_err(|e| fs_err("cannot chown", gen_label.display(), e))?;
    fchmod(&gen_fd, Mode::from_bits_truncate(dir_mode_for(mode)))
        .map_err(|e| fs_err("cannot chmod", gen_label.display(), e))?;
    fs::fsync_dir(&gen_fd, gen_label)?;
    fs::fsync_dir(gens, gens_label)
}

pub(super) fn publish(
    parent: &impl AsFd,
    p: &Paths,
    gen: &str,
    output_dir: &Path,
    at_output: &AtOutput,
) -> Result<(), FsError> {
    let parent = parent.as_fd();
    let link_tmp = debris::link_temp_name(&p.leaf);
    let target = format!("{}/{gen}", p.gens);
    symlinkat(target.as_str(), parent, link_tmp.as_str()).map_err(|e| {
        fs_err(
            "cannot create symlink",
            p.parent.join(&link_tmp).display(),
            e,
        )
    })?;
    let result = match at_output {
        // Something we did not write: swap it out atomically, then keep it aside.
        AtOutput::Foreign { dir } => renameat2(
            parent,
            link_tmp.as_str(),
            parent,
            p.leaf.as_str(),
            RenameFlags::RENAME_EXCHANGE,
        )
        .map_err(|e| fs_err("cannot switch", output_dir.display(), e))
        .map(|()| {
            // link_tmp now names what was at outputDir.
            debris::set_aside(&parent, &p.parent, &link_tmp, &p.leaf, *dir, output_dir);
        }),
        _ => renameat(parent, link_tmp.as_str(), parent, p.leaf.as_str())
            .map_err(|e| fs_err("cannot switch", output_dir.display(), e)),
    };
    if result.is_err() {
        let _ = unlinkat(parent, link_tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    }
    result?;
    fs::fsync_dir(parent, &p.parent)
}

/// True when generation `gen` holds exactly `files`, each with this owner and mode.
pub(super) fn generation_matches(
    gens: &impl AsFd,
    gen: &str,
    files: &[(String, Vec<u8>)],
    uid: Uid,
    gid: Gid,
    mode: u32,
    label: &Path,
) -> bool {
    let Ok(dir) = fs::open_subdir(gens, gen, label) else {
        return false;
    };
    let Ok(names) = fs::list_dir(&dir, label) else {
        return false;
    };
    if names.len() != files.len() {
        return false;
    }
    let dir_ok = fstat(&dir).is_ok_and(|st| {
        st.st_uid == uid.as_raw()
            && st.st_gid == gid.as_raw()
            && st.st_mode & 0o7777 == dir_mode_for(mode)
    });
    dir_ok
        && files.iter().all(|(key, bytes)| {
            let same_meta = nix::sys::stat::fstatat(
                &dir,
                key.as_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .is_ok_and(|st| {
                st.st_mode & fs::libc_s_ifmt() == 0o100000
                    && st.st_uid == uid.as_raw()
                    && st.st_gid == gid.as_raw()
                    && st.st_mode & 0o7777 == mode
            });
            same_meta && matches!(fs::read_file_at(&dir, key, label), Ok(Some(b)) if &b == bytes)
        })
}
