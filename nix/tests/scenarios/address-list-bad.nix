# A list with an entry that is not a URL: refused at evaluation.
{
  vault.enable = true;
  vault.address = [ "https://vault01.example:8200" "vault02" ];
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
