# An empty list: refused at evaluation.
{
  vault.enable = true;
  vault.address = [ ];
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
