# Templates: an ini file written with placeholders, an environment file, and the
# services that use them.
{ config, ... }:
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets.grafana = {
    secretPath = "hosts/monitoring01/grafana";
    keys = [ "password" "user" ];
  };
  vault.secrets.db.secretPath = "hosts/monitoring01/db";
  vault.secrets.api.secretPath = "hosts/monitoring01/api";
  vault.templates."grafana.ini" = {
    content = ''
      [security]
      admin_user = ${config.vault.placeholder.grafana.user}
      admin_password = ${config.vault.placeholder.grafana.password}
    '';
    owner = "grafana";
    group = "grafana";
    services = [ "grafana" ];
  };
  vault.templates."app.env" = {
    envFrom = [ "db" "api" ];
    mode = "0440";
    services = [ "app.service" ];
    onChange = "reload";
  };
  # What a user writes: the read-only path, referenced from the service.
  systemd.services.app.serviceConfig.EnvironmentFile = config.vault.templates."app.env".path;
  systemd.services.grafana.description = "Grafana";
}
