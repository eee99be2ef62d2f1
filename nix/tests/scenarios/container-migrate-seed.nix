# The seed's configuration as is on a migrated host: no vault.address (the
# seed's module read VAULT_ADDR from /etc/environment), credentials adopted
# from /var/lib/vault/approle; bootstrap pins the address (src/pin.rs).
{ lib, ... }:
{
  imports = [ ./container-migrate.nix ];
  vault.address = lib.mkForce null;
}
