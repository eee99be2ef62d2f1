{
  vault.enable = true;
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
