# A host switched from the seed design's module: no wrapped token, the AppRole
# credentials in /var/lib/vault/approle (vault.approle.adoptFrom's default),
# and a DynamicUser= consumer fed through LoadCredential= (credentialFor).
{ lib, ... }:
{
  imports = [ ./container.nix ];
  vault.bootstrap.tokenFile = lib.mkForce null;
  vault.secrets.demo.keys = [ "password" ];
  vault.secrets.demo.credentialFor = [ "dyn" ];
  systemd.services.dyn = {
    description = "a DynamicUser= consumer of the demo secret";
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      DynamicUser = true;
      StateDirectory = "dyn";
      ExecStart = "/bin/sh -c 'id -u > /var/lib/dyn/uid; cat \"$CREDENTIALS_DIRECTORY/demo.password\" > /var/lib/dyn/seen && exec sleep infinity'";
    };
  };
}
