# A host switched from the seed design's module: no wrapped token, the AppRole
# credentials in /var/lib/vault/approle (vault.approle.adoptFrom's default).
{ lib, ... }:
{
  imports = [ ./container.nix ];
  vault.bootstrap.tokenFile = lib.mkForce null;
}
