# The example spec of the JSON contract, written as module options.
{
  vault = {
    enable = true;
    address = "https://vault01.example:8200";
    secrets.grafana = {
      secretPath = "hosts/monitoring01/grafana";
      owner = "grafana";
      group = "grafana";
      services = [ "grafana" ];
      restartTrigger = true;
    };
    criticalServices = [ "bind" "openbao" "step-ca" ];
  };
  # On a real host services.grafana declares it.
  systemd.services.grafana.description = "Grafana";
}
