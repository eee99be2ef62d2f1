//! Every .nix file of the repository parses (`nix-instantiate --parse`), the
//! flake files too, which cannot be evaluated here.

use crate::nix_eval::repo;
use std::path::{Path, PathBuf};
use std::process::Command;

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                nix_files(&path, out);
            }
        } else if name.ends_with(".nix") {
            out.push(path);
        }
    }
}

#[test]
fn every_nix_file_parses() {
    if crate::nix_eval::skip_requested("every_nix_file_parses") {
        return;
    }
    crate::nix_eval::require_nix_instantiate("every_nix_file_parses");
    let mut files = Vec::new();
    nix_files(&repo(), &mut files);
    files.sort();
    for must in [
        "flake.nix",
        "nixos/module.nix",
        "nix/module/default.nix",
        "nix/package.nix",
        "nix/tests/eval.nix",
    ] {
        assert!(files.contains(&repo().join(must)), "{must} not found");
    }
    let bad: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let out = Command::new("nix-instantiate")
                .arg("--parse")
                .arg(f)
                .output()
                .unwrap();
            (!out.status.success())
                .then(|| format!("{}: {}", f.display(), String::from_utf8_lossy(&out.stderr)))
        })
        .collect();
    assert!(bad.is_empty(), "unparsable:\n{}", bad.join("\n"));
}

#[test]
fn flake_lock_pins_only_nixpkgs() {
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("flake.lock")).unwrap()).unwrap();
    assert_eq!(lock["version"], 7);
    assert_eq!(lock["root"], "root");
    assert_eq!(
        lock["nodes"]["root"],
        serde_json::json!({ "inputs": { "nixpkgs": "nixpkgs" } })
    );
    assert_eq!(lock["nodes"].as_object().unwrap().len(), 2);
    let locked = &lock["nodes"]["nixpkgs"]["locked"];
    assert_eq!(locked["rev"], "567a49d1913ce81ac6e9582e3553dd90a955875f");
    assert_eq!(
        locked["narHash"],
        "sha256-lrp67w8AulE9Ks53n27I45ADSzbOCn4H+CNW1Ck8B+8="
    );
}
