# The audit listener's limits and the Slack time limits set from NixOS: only
# the options set reach the spec (null keeps the agent's own defaults).
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets.grafana.secretPath = "hosts/monitoring01/grafana";
  vault.audit.enable = true;
  vault.audit.listen = [ "unix:/run/vaultkeeper-audit/audit.sock" "tcp:10.0.0.1:9090" ];
  vault.audit.allowFrom = [ "10.0.0.5" "10.0.1.0/24" ];
  vault.audit.maxConnections = 128;
  vault.audit.idleTimeout = "2m";
  vault.audit.memoryBudget = 134217728;
  vault.audit.slack.webhookUrlFile = "/run/secrets/slack/webhook-url";
  vault.audit.slack.responseTimeout = "90s";
  vault.insights.digest = "weekly";
  vault.insights.slack = { webhookUrlFile = "/run/secrets/slack-ops/webhook-url"; timeout = "5s"; };
}
