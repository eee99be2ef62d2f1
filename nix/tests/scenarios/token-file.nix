# The recommended first-boot hand-over: a token file, as a systemd credential.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.bootstrap.tokenFile = "/var/lib/vaultkeeper/wrapped-token";
  vault.bootstrap.environmentFile = null;
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
