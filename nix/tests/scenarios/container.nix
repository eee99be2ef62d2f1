# What tests/container_e2e.rs boots: two secrets for three consumer services
# that read them as the user demo, one of them critical. The wrapped token is
# in the token file before the first boot, as cloud-init leaves it
# (vault.address is replaced by the test's OpenBao). Each consumer appends its
# InvocationID to /var/lib/<name>/starts when it starts, so a test counts restarts.
let
  consumer = name: secret: {
    description = "consumer ${name} of the ${secret} secret";
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      User = "demo";
      StateDirectory = name;
      ExecStart = "/bin/sh -c 'echo $INVOCATION_ID >> /var/lib/${name}/starts; cat /run/secrets/${secret}/password > /var/lib/${name}/seen && exec sleep infinity'";
    };
  };
in
{
  vault = {
    enable = true;
    address = "http://127.0.0.1:8200";
    # provisioned as `--host e2e`; the container's host name is another
    approle.roleName = "e2e";
    bootstrap.tokenFile = "/var/lib/vaultkeeper/wrapped-token";
    refreshInterval = "2s";
    restartRandomizedDelay = "1s";
    criticalServices = [ "crit" ];
    secrets.demo = {
      secretPath = "hosts/e2e/demo";
      owner = "demo";
      group = "demo";
      mode = "0440";
      services = [ "demo" "crit" ];
    };
    secrets.other = {
      secretPath = "hosts/e2e/other";
      owner = "demo";
      group = "demo";
      mode = "0440";
      services = [ "other" ];
    };
  };
  systemd.services.demo = consumer "demo" "demo";
  systemd.services.crit = consumer "crit" "demo";
  systemd.services.other = consumer "other" "other";
}
