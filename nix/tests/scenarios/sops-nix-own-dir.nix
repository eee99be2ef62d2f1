# sops-nix beside vaultkeeper, as the assertion says to do it.
{ lib, ... }:
{
  imports = [ ./sops-nix.nix ];
  vault.secretsDir = "/run/vault-secrets";
  vault.secrets.db.outputDir = lib.mkForce "/run/vault-secrets/db";
}
