# NixOS VM test: an OpenBao dev server, the vaultkeeper module and a consumer.
# First boot without a token (the boot goes on), bootstrap from a wrapped token,
# the secret rendered with its owner and mode before the consumer starts, and a
# change in OpenBao restarting the consumer.
{ pkgs, vaultkeeperModule }:
pkgs.testers.runNixOSTest {
  name = "vaultkeeper-openbao-bootstrap-fetch-restart";

  nodes.machine = { pkgs, ... }: {
    imports = [ vaultkeeperModule ];
    environment.systemPackages = [ pkgs.openbao ];

    systemd.services.openbao-dev = {
      wantedBy = [ "multi-user.target" ];
      before = [ "vaultkeeper-bootstrap.service" ];
      serviceConfig.ExecStart = "${pkgs.openbao}/bin/bao server -dev -dev-root-token-id=root -dev-listen-address=127.0.0.1:8200";
    };

    users.users.demo = { isSystemUser = true; group = "demo"; };
    users.groups.demo = { };
    systemd.services.demo = {
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        User = "demo";
        ExecStart = "${pkgs.bash}/bin/bash -c 'cat /run/secrets/demo/password > /tmp/seen; exec sleep infinity'";
        PrivateTmp = false;
      };
    };

    vault = {
      enable = true;
      address = "http://127.0.0.1:8200";
      # /etc/environment is NixOS-managed; the test's "cloud-init" writes here.
      bootstrap.environmentFile = "/run/seed/vault.env";
      refreshInterval = "2s";
      restartRandomizedDelay = "1s";
      secrets.demo = {
        secretPath = "hosts/machine/demo";
        owner = "demo";
        group = "demo";
        mode = "0400";
        services = [ "demo" ];
      };
    };
  };

  testScript = ''
    bao = "env VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root "
    machine.wait_for_unit("openbao-dev.service")
    machine.wait_for_open_port(8200)
    # No token on the first boot: bootstrap reports and exits 0, the boot goes on.
    machine.wait_for_unit("multi-user.target")
    machine.succeed("systemctl is-active vaultkeeper-bootstrap.service")
    machine.fail("test -e /var/lib/vaultkeeper/approle/secret-id")

    token = machine.succeed(bao + "vaultkeeper provision --host machine").strip()
    machine.succeed(bao + "bao kv put secret/hosts/machine/demo password=first")
    machine.succeed(f"mkdir -p /run/seed && echo VAULT_WRAPPED_TOKEN={token} > /run/seed/vault.env")

    machine.succeed("systemctl restart vaultkeeper-bootstrap.service")
    machine.succeed("test -s /var/lib/vaultkeeper/approle/secret-id")
    # Bootstrapped: the unit's condition now keeps it from running again.
    machine.succeed("systemctl restart vaultkeeper-bootstrap.service")
    assert "ConditionResult=no" in machine.succeed("systemctl show -p ConditionResult vaultkeeper-bootstrap.service")

    machine.succeed("systemctl restart demo.service")
    machine.wait_for_unit("demo.service")
    assert machine.succeed("cat /tmp/seen").strip() == "first"
    assert machine.succeed("stat -L -c '%U:%G %a' /run/secrets/demo/password").strip() == "demo:demo 400"

    machine.systemctl("restart vaultkeeper.service")
    machine.wait_for_unit("vaultkeeper.service")
    before = machine.succeed("systemctl show -p InvocationID --value demo.service").strip()
    machine.succeed(bao + "bao kv put secret/hosts/machine/demo password=second")
    machine.wait_until_succeeds("grep -qx second /tmp/seen", timeout=60)
    after = machine.succeed("systemctl show -p InvocationID --value demo.service").strip()
    assert before != after, "a change in OpenBao must restart demo.service"
  '';
}
