# Evaluates the vaultkeeper module with nixpkgs' lib, stand-in NixOS options and
# packages, and one scenario module; returns what the tests compare.
#   nix-instantiate --eval --strict --json nix/tests/eval.nix \
#     --argstr nixpkgsLib /var/cache/nixpkgs-lib/lib --argstr scenario nix/tests/scenarios/full.nix -A spec
{ nixpkgsLib, scenario }:
let
  lib = import nixpkgsLib;
  eval = lib.evalModules {
    modules = [
      ../module
      ./stubs.nix
      (/. + scenario)
      { _module.args.pkgs = import ./pkgs.nix; }
    ];
  };
  cfg = eval.config;
  specSource = cfg.environment.etc."vaultkeeper/spec.json".source or { };
in
{
  spec = if cfg.vault.enable then cfg.vault.spec else null;
  specFile = builtins.intersectAttrs { name = null; text = null; checkPhase = null; } specSource;
  vaultkeeperPath = cfg.vault.package.outPath;
  services = cfg.systemd.services;
  paths = cfg.systemd.paths;
  lateStart = if cfg.vault.enable then cfg.vault.bootstrap.lateStartScript else null;
  adoptScript = if cfg.vault.enable then cfg.vault.approle.adoptScript else null;
  tmpfiles = cfg.systemd.tmpfiles.rules;
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
  inherit (cfg) warnings;
  etcKeys = lib.attrNames cfg.environment.etc;
  systemPackages = map (p: p.outPath) cfg.environment.systemPackages;
  nodeExporterFlags = cfg.services.prometheus.exporters.node.extraFlags or null;
  firewallTCPPorts = cfg.networking.firewall.allowedTCPPorts;
  placeholder = cfg.vault.placeholder;
  # The read-only per-secret values other options reference.
  secretPaths = lib.mapAttrs (_: s: { inherit (s) path keyPaths group outputDir; }) cfg.vault.secrets;
}
