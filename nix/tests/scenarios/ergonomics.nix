# The options other modules reference (path, keyPaths), the group default from
# users.users, credentials for a DynamicUser= service, and a typo in `services`.
{ config, ... }:
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  users.users.grafana = { isSystemUser = true; group = "grafana-g"; };
  users.users.nogroup.isSystemUser = true;
  vault.secrets.grafana = {
    secretPath = "hosts/monitoring01/grafana";
    owner = "grafana";
    keys = [ "password" "user" ];
    services = [ "grafana" ];
    credentialFor = [ "dyn" "dyn2.service" ];
  };
  vault.secrets.other = {
    secretPath = "hosts/monitoring01/other";
    owner = "nogroup";
    services = [ "grafana" "grafna" "backup.timer" ];
  };
  vault.secrets.explicit = {
    secretPath = "hosts/monitoring01/explicit";
    owner = "grafana";
    group = "wheel";
  };
  # The idiom of docs/getting-started/nixos.md, on a stand-in option.
  systemd.services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD = "$__file{${config.vault.secrets.grafana.path}/password}";
  systemd.services.dyn.serviceConfig = { DynamicUser = true; LoadCredential = [ "own:/etc/own" ]; };
  systemd.services.dyn2.serviceConfig.DynamicUser = true;
}
