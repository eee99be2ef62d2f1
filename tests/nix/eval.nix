# Evaluates the vaultkeeper module with nixpkgs' lib, stand-in NixOS options and
# packages, and one scenario module; returns what the tests compare.
#   nix-instantiate --eval --strict --json tests/nix/eval.nix \
#     --argstr nixpkgsLib /var/cache/nixpkgs-lib/lib --argstr scenario tests/nix/scenarios/full.nix -A spec
{ nixpkgsLib, scenario }:
let
  lib = import nixpkgsLib;
  eval = lib.evalModules {
    modules = [
      ../../nixos/module.nix
      ./stubs.nix
      (import scenario)
      { _module.args.pkgs = import ./pkgs.nix; }
    ];
  };
  cfg = eval.config;
  specSource = cfg.environment.etc."vaultkeeper/spec.json".source;
in
{
  inherit (cfg.vault) spec;
  specFile = { inherit (specSource) name text checkPhase; };
  vaultkeeperPath = cfg.vault.package.outPath;
  services = cfg.systemd.services;
  tmpfiles = cfg.systemd.tmpfiles.rules;
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
  inherit (cfg) warnings;
  etcKeys = lib.attrNames cfg.environment.etc;
}
