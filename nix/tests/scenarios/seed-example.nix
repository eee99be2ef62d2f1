# The seed design's example configuration: no vault.address (its module read
# VAULT_ADDR from /etc/environment at boot).
{
  vault.enable = true;
  vault.secrets.grafana = {
    secretPath = "hosts/monitoring01/grafana";
    services = [ "grafana" ];
  };
  systemd.services.grafana = { };
}
