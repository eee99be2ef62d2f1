# Secrets declared but the agent off: the module must add nothing.
{
  vault.address = "https://vault01.example:8200";
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
