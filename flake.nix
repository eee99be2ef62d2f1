{
  description = "vaultkeeper: a secrets agent for NixOS hosts (HashiCorp Vault / OpenBao)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # What `vaultkeeper --version` prints as the git revision (build.rs).
      gitRev = self.rev or self.dirtyRev or null;
    in
    {
      overlays.default = final: _prev: {
        vaultkeeper = final.callPackage ./nix/package.nix { inherit gitRev; };
      };

      packages = forAllSystems (pkgs: rec {
        vaultkeeper = pkgs.callPackage ./nix/package.nix { inherit gitRev; };
        default = vaultkeeper;
      });

      nixosModules.default = { lib, pkgs, ... }: {
        imports = [ ./nix/module ];
        vault.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = with pkgs; [ cargo clippy rustfmt rust-analyzer openbao nix debootstrap ];
          NIXPKGS_LIB = "${nixpkgs}/lib";
        };
      });

      checks = forAllSystems (pkgs:
        let
          vaultkeeper = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
          withTests = pkgs.callPackage ./nix/package.nix { withTests = true; };
        in
        {
          package = vaultkeeper;
          clippy = pkgs.callPackage ./nix/clippy.nix { vaultkeeper = withTests; };
          module-eval = pkgs.callPackage ./nix/tests/module-eval.nix {
            vaultkeeper = withTests;
            nixpkgsLib = "${nixpkgs}/lib";
          };
          openbao-bootstrap-fetch-restart = import ./nix/tests/openbao-bootstrap-fetch-restart.nix {
            inherit pkgs;
            vaultkeeperModule = self.nixosModules.default;
          };
        });

      formatter = forAllSystems (pkgs: pkgs.nixpkgs-fmt);
    };
}
