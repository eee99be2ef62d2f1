//! inotify on what the daemon must notice: the spec file (NixOS swaps symlinks in
//! /etc, so the directories along its symlink chain are watched, not the file),
//! the AppRole credential files, and every secret's rendered output (the parent
//! directory for the `outputDir` symlink, and the current generation directory).

use futures::StreamExt;
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What an inotify event means to the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Spec,
    Credentials,
    /// A secret's outputs were touched (possibly by us: the caller verifies).
    Output(String),
    /// A template's file was touched (possibly by us: the caller verifies).
    Template(String),
}

#[derive(Debug, Clone)]
enum Interest {
    /// A directory: names in it that matter, and the change each one means.
    Dir(
        BTreeMap<OsString, Change>,
        /* any name */ Option<Change>,
    ),
    /// A generation directory of a secret: any event in it.
    Generation(String),
}

pub(crate) struct Watcher {
    stream: inotify::EventStream<Vec<u8>>,
    interests: HashMap<WatchDescriptor, Interest>,
    generation_wd: HashMap<String, WatchDescriptor>,
}

const DIR_MASK: WatchMask = WatchMask::CREATE
    .union(WatchMask::DELETE)
    // chmod/chown of a template's file.
    .union(WatchMask::ATTRIB)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::ONLYDIR);

const GEN_MASK: WatchMask = WatchMask::MODIFY
    .union(WatchMask::ATTRIB)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::CREATE)
    .union(WatchMask::DELETE)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::ONLYDIR);

impl Watcher {
    pub(crate) fn new() -> std::io::Result<Watcher> {
        let stream = Inotify::init()?.into_event_stream(vec![0u8; 8192])?;
        Ok(Watcher {
            stream,
            interests: HashMap::new(),
            generation_wd: HashMap::new(),
        })
    }

    /// Replaces every directory watch: the spec's symlink chain, the credential
    /// files' directories, and the parents of the outputs.
    pub(crate) fn watch_config(
        &mut self,
        spec_path: &Path,
        credential_files: &[&Path],
        outputs: &[(String, PathBuf)],
        templates: &[(String, PathBuf)],
    ) {
        let dirs: Vec<WatchDescriptor> = self
            .interests
            .iter()
            .filter(|(_, i)| matches!(i, Interest::Dir(..)))
            .map(|(wd, _)| wd.clone())
            .collect();
        for wd in dirs {
            let _ = self.stream.watches().remove(wd.clone());
            self.interests.remove(&wd);
        }
        let mut wanted: BTreeMap<PathBuf, (BTreeMap<OsString, Change>, Option<Change>)> =
            BTreeMap::new();
        for dir in symlink_chain_dirs(spec_path) {
            wanted.entry(dir).or_default().1 = Some(Change::Spec);
        }
        for f in credential_files {
            if let (Some(dir), Some(name)) = (f.parent(), f.file_name()) {
                wanted
                    .entry(dir.to_path_buf())
                    .or_default()
                    .0
                    .insert(name.to_os_string(), Change::Credentials);
            }
        }
        for (secret, out) in outputs {
            if let (Some(dir), Some(name)) = (out.parent(), out.file_name()) {
                wanted
                    .entry(dir.to_path_buf())
                    .or_default()
                    .0
                    .insert(name.to_os_string(), Change::Output(secret.clone()));
            }
        }
        for (template, file) in templates {
            if let (Some(dir), Some(name)) = (file.parent(), file.file_name()) {
                wanted
                    .entry(dir.to_path_buf())
                    .or_default()
                    .0
                    .insert(name.to_os_string(), Change::Template(template.clone()));
            }
        }
        for (dir, (names, any)) in wanted {
            match self.stream.watches().add(&dir, DIR_MASK) {
                Ok(wd) => {
                    self.interests.insert(wd, Interest::Dir(names, any));
                }
                Err(e) => tracing::debug!("cannot watch {}: {e}", dir.display()),
            }
        }
    }

    /// (Re)watches the current generation of a secret's output (inotify follows
    /// the `outputDir` symlink when the watch is added).
    pub(crate) fn watch_generation(&mut self, secret: &str, output_dir: &Path) {
        if let Some(old) = self.generation_wd.remove(secret) {
            // The same directory gets the same descriptor back; only drop others.
            self.interests.remove(&old);
            let _ = self.stream.watches().remove(old);
        }
        match self.stream.watches().add(output_dir, GEN_MASK) {
            Ok(wd) => {
                self.interests
                    .insert(wd.clone(), Interest::Generation(secret.to_string()));
                self.generation_wd.insert(secret.to_string(), wd);
            }
            Err(e) => tracing::debug!("cannot watch {}: {e}", output_dir.display()),
        }
    }

    pub(crate) fn forget_generation(&mut self, secret: &str) {
        if let Some(old) = self.generation_wd.remove(secret) {
            self.interests.remove(&old);
            let _ = self.stream.watches().remove(old);
        }
    }

    /// The next change that matters (events nobody asked about are skipped).
    pub(crate) async fn next(&mut self) -> Option<Change> {
        loop {
            let ev = match self.stream.next().await? {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::warn!("inotify failed: {e}; file changes are no longer noticed");
                    return None;
                }
            };
            if ev.mask.contains(EventMask::Q_OVERFLOW) {
                // Events were lost: assume everything may have changed.
                return Some(Change::Spec);
            }
            if ev.mask.contains(EventMask::IGNORED) {
                if let Some(Interest::Generation(s)) = self.interests.remove(&ev.wd) {
                    if self.generation_wd.get(&s) == Some(&ev.wd) {
                        self.generation_wd.remove(&s);
                        return Some(Change::Output(s));
                    }
                }
                continue;
            }
            match self.interests.get(&ev.wd) {
                Some(Interest::Generation(s)) => return Some(Change::Output(s.clone())),
                Some(Interest::Dir(names, any)) => {
                    if let Some(c) = ev.name.as_ref().and_then(|n| names.get(n)) {
                        return Some(c.clone());
                    }
                    if let Some(c) = any {
                        return Some(c.clone());
                    }
                }
                None => {}
            }
        }
    }
}

/// The directories to watch so that any change of what `path` resolves to is
/// seen: its parent, and the parent of every symlink met while resolving it
/// (NixOS: /etc/vaultkeeper/spec.json -> /etc/static/... with /etc/static itself
/// a symlink replaced on every switch).
pub(crate) fn symlink_chain_dirs(path: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut todo = vec![path.to_path_buf()];
    let mut hops = 0;
    while let Some(p) = todo.pop() {
        hops += 1;
        if hops > 16 {
            break;
        }
        if let Some(parent) = p.parent() {
            if !dirs.contains(&parent.to_path_buf()) {
                dirs.push(parent.to_path_buf());
            }
        }
        // Every prefix that is a symlink is resolved too.
        let mut prefix = PathBuf::new();
        for c in p.components() {
            prefix.push(c);
            if let Ok(target) = std::fs::read_link(&prefix) {
                // The prefix's own components are not symlinks (checked in
                // order), so `..` in a relative target can be resolved lexically.
                let abs = normalize(&match prefix.parent() {
                    Some(dir) if target.is_relative() => dir.join(&target),
                    _ => target,
                });
                let rest = p.strip_prefix(&prefix).unwrap_or(Path::new(""));
                let next = if rest.as_os_str().is_empty() {
                    abs
                } else {
                    abs.join(rest)
                };
                if let Some(parent) = prefix.parent() {
                    if !dirs.contains(&parent.to_path_buf()) {
                        dirs.push(parent.to_path_buf());
                    }
                }
                todo.push(next);
                break;
            }
        }
    }
    dirs
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nixos_style_symlink_chain_is_watched_at_every_hop() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        // store/gen1/vaultkeeper/spec.json, etc/static -> ../store/gen1,
        // etc/vaultkeeper/spec.json -> ../static/vaultkeeper/spec.json
        std::fs::create_dir_all(root.join("store/gen1/vaultkeeper")).unwrap();
        std::fs::write(root.join("store/gen1/vaultkeeper/spec.json"), "{}").unwrap();
        std::fs::create_dir_all(root.join("etc/vaultkeeper")).unwrap();
        std::os::unix::fs::symlink("../store/gen1", root.join("etc/static")).unwrap();
        std::os::unix::fs::symlink(
            "../static/vaultkeeper/spec.json",
            root.join("etc/vaultkeeper/spec.json"),
        )
        .unwrap();
        let dirs = symlink_chain_dirs(&root.join("etc/vaultkeeper/spec.json"));
        assert_eq!(
            dirs,
            [
                root.join("etc/vaultkeeper"),
                root.join("etc/static/vaultkeeper"),
                root.join("etc"),
                root.join("store/gen1/vaultkeeper"),
            ]
        );
    }

    #[tokio::test]
    async fn deleting_an_output_file_is_noticed() {
        let t = tempfile::tempdir().unwrap();
        let gen = t.path().join(".s.vaultkeeper/g1");
        std::fs::create_dir_all(&gen).unwrap();
        std::fs::write(gen.join("k"), "v").unwrap();
        std::os::unix::fs::symlink(".s.vaultkeeper/g1", t.path().join("s")).unwrap();
        let spec = t.path().join("cfg/spec.json");
        std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
        let mut w = Watcher::new().unwrap();
        let tpl = t.path().join("rendered/app.env");
        std::fs::create_dir_all(tpl.parent().unwrap()).unwrap();
        std::fs::write(&tpl, "A=1").unwrap();
        w.watch_config(
            &spec,
            &[],
            &[("s".into(), t.path().join("s"))],
            &[("app.env".into(), tpl.clone())],
        );
        w.watch_generation("s", &t.path().join("s"));
        std::fs::remove_file(gen.join("k")).unwrap();
        let c = tokio::time::timeout(std::time::Duration::from_secs(5), w.next()).await;
        assert_eq!(c.unwrap(), Some(Change::Output("s".into())));
        std::fs::write(&spec, "{}").unwrap();
        let c = tokio::time::timeout(std::time::Duration::from_secs(5), w.next()).await;
        assert_eq!(c.unwrap(), Some(Change::Spec));
        // The spec's write gave more than one event: skip the rest of them.
        async fn next_template(w: &mut Watcher) -> Option<Change> {
            loop {
                match w.next().await {
                    Some(Change::Spec) => continue,
                    other => return other,
                }
            }
        }
        // A template's file: chmod, rewrite and deletion are each noticed.
        std::fs::set_permissions(&tpl, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let c =
            tokio::time::timeout(std::time::Duration::from_secs(5), next_template(&mut w)).await;
        assert_eq!(c.unwrap(), Some(Change::Template("app.env".into())));
        std::fs::write(&tpl, "A=2").unwrap();
        let c =
            tokio::time::timeout(std::time::Duration::from_secs(5), next_template(&mut w)).await;
        assert_eq!(c.unwrap(), Some(Change::Template("app.env".into())));
        std::fs::remove_file(&tpl).unwrap();
        let c =
            tokio::time::timeout(std::time::Duration::from_secs(5), next_template(&mut w)).await;
        assert_eq!(c.unwrap(), Some(Change::Template("app.env".into())));
    }
}
