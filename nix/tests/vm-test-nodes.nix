# The nodes of the NixOS VM test (nix/tests/openbao-bootstrap-fetch-restart.nix),
# evaluated with the stand-ins of eval.nix: the configuration the VM boots must
# evaluate without an assertion or a warning, and reference the secret's path.
{ nixpkgsLib }:
let
  lib = import nixpkgsLib;
  pkgs = import ./pkgs.nix;
  test = import ./openbao-bootstrap-fetch-restart.nix {
    pkgs = pkgs // { testers.runNixOSTest = t: t; };
    vaultkeeperModule = ../module;
  };
  node = m: (lib.evalModules {
    modules = [ m ./stubs.nix { _module.args.pkgs = pkgs; } ];
  }).config;
  summary = cfg: {
    failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
    inherit (cfg) warnings;
    services = cfg.systemd.services;
    spec = if cfg.vault.enable then cfg.vault.spec else null;
    systemPackages = map (p: p.name) cfg.environment.systemPackages;
  };
in
{
  machine = summary (node test.nodes.machine);
  vault = summary (node test.nodes.vault);
  testScript = test.testScript;
}
