# A scheduled restart of a critical service: refused.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.criticalServices = [ "bind" "openbao.service" ];
  vault.secrets.dns = {
    secretPath = "hosts/ns01/tsig";
    services = [ "bind.service" "openbao" "unbound" ];
    restartTrigger = true;
  };
}
