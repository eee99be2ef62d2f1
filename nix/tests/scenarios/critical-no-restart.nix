# A critical service may use a secret, as long as nothing restarts it on a schedule.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.criticalServices = [ "bind" ];
  vault.secrets.dns = { secretPath = "hosts/ns01/tsig"; services = [ "bind" ]; };
  systemd.services.bind.description = "BIND";
}
