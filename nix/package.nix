# The vaultkeeper binary, built from Cargo.lock (no network at build time).
# `withTests` adds what the integration tests read (the flake's checks use it).
# The source set is nix/source.nix; scripts/nix-build-sim.sh builds exactly
# those files offline, unprivileged and without network, as `nix build` would.
{ lib, rustPlatform, withTests ? false }:
let
  cargo = lib.importTOML ../Cargo.toml;
  sources = import ./source.nix;
  sourcePaths = sources.package ++ lib.optionals withTests sources.tests;
in
rustPlatform.buildRustPackage {
  pname = "vaultkeeper";
  inherit (cargo.package) version;
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions (map (p: ../. + "/${p}") sourcePaths);
  };
  cargoLock.lockFile = ../Cargo.lock;
  # Unit tests only (no root, no network, no user or group but the build
  # user's): the integration tests need root (systemd containers), a real
  # OpenBao or nixpkgs' lib; the flake's checks run those that can run.
  cargoTestFlags = [ "--lib" "--bins" ];
  passthru = { inherit sourcePaths; };
  meta = {
    description = cargo.package.description;
    homepage = cargo.package.repository;
    license = with lib.licenses; [ mit asl20 ];
    mainProgram = "vaultkeeper";
    platforms = lib.platforms.linux;
  };
}
