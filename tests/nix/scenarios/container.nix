# What tests/container_e2e.rs boots: one secret for a consumer service that
# reads it as its own user (vault.address is replaced by the test's OpenBao).
{
  vault = {
    enable = true;
    address = "http://127.0.0.1:8200";
    # provisioned as `--host e2e`; the container's host name is another
    approle.roleName = "e2e";
    secrets.demo = {
      secretPath = "hosts/e2e/demo";
      owner = "demo";
      group = "demo";
      mode = "0440";
      services = [ "demo" ];
    };
  };
  systemd.services.demo = {
    description = "consumer of the demo secret";
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      User = "demo";
      StateDirectory = "demo";
      ExecStart = "/bin/sh -c 'cat /run/secrets/demo/password > /var/lib/demo/seen && exec sleep infinity'";
    };
  };
}
