# The module-evaluation tests (tests/nix_module.rs) with this flake's nixpkgs lib.
{ vaultkeeper, nix, nixpkgsLib }:
vaultkeeper.overrideAttrs (old: {
  pname = "vaultkeeper-module-eval";
  nativeCheckInputs = (old.nativeCheckInputs or [ ]) ++ [ nix ];
  cargoTestFlags = [ "--test" "nix_module" ];
  NIXPKGS_LIB = "${nixpkgsLib}";
  # nix-instantiate --eval needs a state directory, not a daemon.
  preCheck = ''
    export NIX_STATE_DIR=$TMPDIR/nix-state NIX_LOG_DIR=$TMPDIR/nix-log HOME=$TMPDIR
  '';
  installPhase = "touch $out";
})
