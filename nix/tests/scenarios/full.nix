# Every option set away from its default.
{
  vault = {
    enable = true;
    address = "https://vault.internal:8200";
    namespace = "admin/hosts";
    caCert = "/etc/ssl/certs/vault-ca.pem";
    skipVerify = true;
    timeout = "30s";
    maxResponseSize = "64MiB";
    approle = {
      mount = "approle-hosts";
      roleIdFile = "/var/lib/vk/creds/role-id";
      secretIdFile = "/var/lib/vk/creds/secret-id";
      wrappedTokenEnv = "BAO_WRAPPED_TOKEN";
      roleName = "db01";
      wrappedTokenFile = "/run/credentials/wrapped-token";
    };
    bootstrap = {
      environmentFile = "/run/cloud-init/vault.env";
      strict = true;
    };
    stateDir = "/var/lib/vk";
    refreshInterval = "1m";
    restartRandomizedDelay = "15m";
    secrets.db = {
      secretPath = "hosts/db01/postgres";
      kvMount = "kv";
      kvVersion = 1;
      outputDir = "/run/keys/db";
      cacheDir = "/var/cache/vk/db";
      owner = "postgres";
      group = "postgres";
      mode = "0440";
      services = [ "postgresql.service" "pgbouncer" ];
      restartTrigger = true;
      restartInterval = "36h";
      refreshInterval = "30s";
      onChange = "reload";
      restartRandomizedDelay = "5m";
    };
    secrets.slack = {
      secretPath = "shared/slack";
      services = [ ];
      onChange = "none";
    };
    criticalServices = [ "openbao" ];
    audit = {
      enable = true;
      listen = [ "tcp:127.0.0.1:9090" "unix:/run/vaultkeeper/audit.sock" "unix:/run/audit/vk.sock" ];
      slack.webhookUrlFile = "/run/secrets/slack/webhook-url";
      rules = {
        root-token-used.severity = "critical";
        login-failures = { threshold = 5; window = "5m"; };
      };
    };
    insights.digest = "weekly";
  };
  systemd.services.pgbouncer.after = [ "network.target" ];
  systemd.services.postgresql.description = "PostgreSQL";
}
