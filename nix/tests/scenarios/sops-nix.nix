# sops-nix on the same host: it owns /run/secrets (a symlink it re-points and
# whose old target it deletes on every activation). The option declarations
# stand in for sops-nix's module.
{ lib, ... }:
{
  options.sops = {
    secrets = lib.mkOption { type = lib.types.attrsOf lib.types.anything; default = { }; };
    defaultSymlinkPath = lib.mkOption { type = lib.types.str; default = "/run/secrets"; };
  };
  config = {
    sops.secrets."ssh/host-key" = { };
    vault.enable = true;
    vault.address = "https://vault01.example:8200";
    vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
    vault.secrets.db = { secretPath = "hosts/monitoring01/db"; outputDir = "/run/secrets/db-by-hand"; };
  };
}
