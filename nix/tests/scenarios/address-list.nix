# vault.address as the list of a raft cluster's nodes.
{
  vault.enable = true;
  vault.address = [ "https://vault01.example:8200" "https://vault02.example:8200" "https://vault03.example:8200" ];
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
