# The seed design's first boot: cloud-init appended VAULT_WRAPPED_TOKEN to
# /etc/environment (a 0644 file NixOS does not generate); no token file.
{ lib, ... }:
{
  imports = [ ./container.nix ];
  vault.bootstrap.tokenFile = lib.mkForce null;
}
