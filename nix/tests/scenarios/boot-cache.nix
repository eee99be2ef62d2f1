# bootCacheMaxAge (top level and per secret) and vault.failback: only the keys
# set reach the spec; unset, the agent's defaults apply.
{
  vault.enable = true;
  vault.address = [ "https://vault01.example:8200" "https://vault02.example:8200" ];
  vault.failback = "2m";
  vault.bootCacheMaxAge = "1h";
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
  vault.secrets.db = { secretPath = "hosts/monitoring01/db"; bootCacheMaxAge = "0s"; };
}
