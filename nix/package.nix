# The vaultkeeper binary, built from Cargo.lock (no network at build time).
# `withTests` adds what the integration tests read (the flake's checks use it).
{ lib, rustPlatform, withTests ? false }:
let
  cargo = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = "vaultkeeper";
  inherit (cargo.package) version;
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions ([ ../Cargo.toml ../Cargo.lock ../src ../nix/path-rules.json ]
      ++ lib.optionals withTests [ ../tests ../nixos ../nix ../docs ../scripts ]);
  };
  cargoLock.lockFile = ../Cargo.lock;
  # Unit tests only: the integration tests need root (systemd containers), a
  # real OpenBao or nixpkgs' lib; the flake's checks run those that can run.
  cargoTestFlags = [ "--lib" "--bins" ];
  meta = {
    description = cargo.package.description;
    homepage = cargo.package.repository;
    license = with lib.licenses; [ mit asl20 ];
    mainProgram = "vaultkeeper";
    platforms = lib.platforms.linux;
  };
}
