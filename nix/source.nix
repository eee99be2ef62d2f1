# The files each derivation builds from, relative to the repository root. One
# list for nix/package.nix (lib.fileset) and for scripts/nix-build-sim.sh, which
# copies exactly these files to an empty directory and builds them offline as
# an unprivileged user without network, the way the Nix sandbox does.
{
  # What `cargo build` and `cargo test --lib --bins` read: the manifest names
  # the [[bench]] targets, so benches/ belongs here; build.rs records the
  # revision; src/paths compiles in nix/path-rules.json (include_str!); a unit
  # test of src/spec/defaults_file.rs compares nix/defaults.json with the parser.
  # fuzz/ is its own workspace.
  package = [ "Cargo.toml" "Cargo.lock" "build.rs" "src" "benches" "nix/path-rules.json" "nix/defaults.json" ];
  # What the integration tests and clippy --all-targets read as well
  # (tests/nix_module reads flake.nix and flake.lock).
  tests = [ "tests" "examples" "nixos" "nix" "docs" "scripts" "flake.nix" "flake.lock" ];
}
