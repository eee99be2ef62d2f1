# Prometheus metrics of the agent (docs/reference/metrics.md): the options, the
# node-exporter textfile default, and the directory the daemon writes it to.
{ config, lib, options, ... }:
let
  inherit (lib) mkOption types literalExpression;
  vkTypes = import ./types.nix { inherit lib; };
  cfg = config.vault;
  textfileDir = "/var/lib/prometheus-node-exporter-text-files";
  # Read without requiring the option to exist (hosts without the Prometheus module).
  nodeExporter = config.services.prometheus.exporters.node.enable or false;
  hasNodeExporterOptions = options ? services && options.services ? prometheus;
  usesDefaultDir = cfg.metrics.textfile != null && dirOf cfg.metrics.textfile == textfileDir;
in
{
  options.vault.metrics = {
    textfile = mkOption {
      type = types.nullOr vkTypes.hostPath;
      default = if nodeExporter then "${textfileDir}/vaultkeeper.prom" else null;
      defaultText = literalExpression ''
        if config.services.prometheus.exporters.node.enable
        then "${textfileDir}/vaultkeeper.prom" else null'';
      example = "/var/lib/node-exporter-textfiles/vaultkeeper.prom";
      description = ''
        A `.prom` file the agent rewrites atomically on every pass of its loop,
        for node-exporter's textfile collector, or `null`. When it is in
        `${textfileDir}` and node-exporter is enabled, the module points the
        collector at that directory (`--collector.textfile.directory`).
      '';
    };
    listen = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "127.0.0.1:9469";
      description = ''
        A loopback `address:port` where the agent serves `GET /metrics`, or
        `null`. Loopback only: the endpoint has no authentication.
      '';
    };
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    {
      systemd.tmpfiles.rules = lib.optional usesDefaultDir "d ${textfileDir} 0755 root root -";
    }
    (lib.optionalAttrs hasNodeExporterOptions {
      services.prometheus.exporters.node.extraFlags = lib.mkIf (nodeExporter && usesDefaultDir)
        [ "--collector.textfile.directory=${textfileDir}" ];
    })
  ]);
}
