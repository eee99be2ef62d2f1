# node-exporter enabled: the textfile default, its directory, the collector flag.
{ lib, ... }:
{
  # Stand-ins for the two nixpkgs options the module reads and sets.
  options.services.prometheus.exporters.node = {
    enable = lib.mkOption { type = lib.types.bool; default = false; };
    extraFlags = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
  };
  config = {
    vault.enable = true;
    vault.address = "https://vault01.example:8200";
    vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
    vault.metrics.listen = "127.0.0.1:9469";
    services.prometheus.exporters.node.enable = true;
  };
}
