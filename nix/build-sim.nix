# What scripts/nix-build-sim.sh needs to simulate `nix build` / `nix flake check`
# without nixpkgs: the flake's outputs evaluated with nixpkgs' lib and a
# stand-in nixpkgs whose rustPlatform.buildRustPackage returns its arguments.
# For each package and check: the source paths, the test flags and phases.
#   nix-instantiate --eval --strict --json nix/build-sim.nix --argstr nixpkgsLib "$NIXPKGS_LIB"
{ nixpkgsLib, system ? "x86_64-linux" }:
let
  lib = import nixpkgsLib;
  # A derivation stand-in: its arguments, and overrideAttrs as nixpkgs applies it.
  drv = args: args // {
    type = "derivation";
    outPath = "/nix/store/00000000000000000000000000000000-${args.pname or args.name or "drv"}";
    overrideAttrs = f: drv (args // f args);
  };
  pkgs = {
    inherit lib;
    stdenv = {
      hostPlatform.system = system;
      buildPlatform.canExecute = _: true;
    };
    installShellFiles = drv { name = "installShellFiles"; };
    rustPlatform.buildRustPackage = drv;
    callPackage = lib.callPackageWith pkgs;
    testers.runNixOSTest = test: drv { name = test.name; nixosTest = true; };
    mkShell = args: drv ({ name = "shell"; } // args);
    clippy = drv { name = "clippy"; };
    nix = drv { name = "nix"; };
    nixpkgs-fmt = drv { name = "nixpkgs-fmt"; };
  };
  nixpkgs = {
    inherit lib;
    outPath = "/nix/store/00000000000000000000000000000000-nixpkgs";
    legacyPackages.${system} = pkgs;
  };
  flake = import ../flake.nix;
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
  describe = d: {
    nixosTest = d.nixosTest or false;
    sourcePaths = d.passthru.sourcePaths or null;
    cargoTestFlags = d.cargoTestFlags or [ ];
    checkFlags = d.checkFlags or [ ];
    buildPhase = d.buildPhase or null;
    doCheck = d.doCheck or true;
    preCheck = d.preCheck or "";
    env = lib.filterAttrs (n: v: builtins.match "[A-Z_]+" n != null && builtins.isString v) (d // d.env or { });
    postInstall = d.postInstall or "";
    installPhase = d.installPhase or null;
  };
in
{
  packages = lib.mapAttrs (_: describe) outputs.packages.${system};
  checks = lib.mapAttrs (_: describe) outputs.checks.${system};
}
