# The next build of nix/tests/scenarios/container.nix, as `nixos-rebuild
# switch` would activate it: a new vaultkeeper package (another store path)
# and one secret changed (demo's mode); the other secret is as before.
{ lib, pkgs, ... }:
{
  imports = [ ./container.nix ];
  vault.package = pkgs.vaultkeeper // {
    name = "vaultkeeper-0.1.1";
    outPath = "${builtins.storeDir}/0f5e8a1d1c2a4b9e8d7c6b5a49382716-vaultkeeper-0.1.1";
  };
  vault.secrets.demo.mode = lib.mkForce "0400";
}
