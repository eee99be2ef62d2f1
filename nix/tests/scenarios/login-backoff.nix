# A stricter login backoff than the agent's default (a server whose AppRole
# lockout allows 3 rejections): only the keys set reach the spec.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.approle.loginBackoff = { maxFailures = 2; window = "30m"; };
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
}
