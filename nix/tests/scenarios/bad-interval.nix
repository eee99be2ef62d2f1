{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets.grafana = { secretPath = "hosts/monitoring01/grafana"; restartInterval = "fortnightly"; };
}
