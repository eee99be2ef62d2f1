# NixOS VM test: an OpenBao dev server on its own node, the vaultkeeper module
# and a consumer on `machine`.
#
# The wrapped token is in place before the boot that bootstraps, as cloud-init
# leaves it; nothing is restarted by hand. The test driver cannot write into a
# VM's disk before the VM first starts, so boot 1 plays the image being
# prepared (no token yet: the boot goes on, nothing bootstraps); the token is
# written where cloud-init's write_files puts it and the machine powered off.
# Boot 2 is the host's first boot with a token: bootstrap after cloud-init and
# before the fetch unit, the secret rendered with its owner and mode before the
# consumer starts, the spent token erased. Then a change in OpenBao restarts
# the consumer.
{ pkgs, vaultkeeperModule }:
pkgs.testers.runNixOSTest {
  name = "vaultkeeper-openbao-bootstrap-fetch-restart";

  nodes.vault = { config, pkgs, ... }: {
    imports = [ vaultkeeperModule ];
    # vaultkeeper only for `vaultkeeper provision`: the agent does not run here.
    environment.systemPackages = [ pkgs.openbao config.vault.package ];
    networking.firewall.allowedTCPPorts = [ 8200 ];
    systemd.services.openbao-dev = {
      wantedBy = [ "multi-user.target" ];
      serviceConfig.ExecStart = "${pkgs.openbao}/bin/bao server -dev -dev-root-token-id=root -dev-listen-address=0.0.0.0:8200";
    };
  };

  nodes.machine = { config, pkgs, ... }: {
    imports = [ vaultkeeperModule ];

    users.users.demo = { isSystemUser = true; group = "demo"; };
    users.groups.demo = { };
    systemd.services.demo = {
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        User = "demo";
        StateDirectory = "demo";
        # The path idiom: reference the secret's read-only path, never write it twice.
        ExecStart = "${pkgs.bash}/bin/bash -c 'echo $INVOCATION_ID >> /var/lib/demo/starts; cat ${config.vault.secrets.demo.keyPaths.password} > /var/lib/demo/seen; exec sleep infinity'";
      };
    };

    vault = {
      enable = true;
      address = "http://vault:8200";
      bootstrap.tokenFile = "/var/lib/vaultkeeper/wrapped-token";
      refreshInterval = "2s";
      restartRandomizedDelay = "1s";
      secrets.demo = {
        secretPath = "hosts/machine/demo";
        owner = "demo";            # group: demo, from users.users.demo.group
        mode = "0440";
        keys = [ "password" ];
        services = [ "demo" ];
      };
    };
  };

  testScript = ''
    bao = "env VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root "
    vault.start()
    vault.wait_for_unit("openbao-dev.service")
    vault.wait_for_open_port(8200)
    token = vault.succeed(bao + "vaultkeeper provision --host machine").strip()
    vault.succeed(bao + "bao kv put secret/hosts/machine/demo password=first")

    # Boot 1: the image being prepared. No token: nothing bootstraps, the boot goes on.
    machine.start()
    machine.wait_for_unit("multi-user.target")
    machine.fail("test -e /var/lib/vaultkeeper/approle/secret-id")
    assert "ConditionResult=no" in machine.succeed("systemctl show -p ConditionResult vaultkeeper-bootstrap.service")
    # Where cloud-init's write_files puts it (permissions 0600), then power off.
    machine.succeed(f"install -m 0600 /dev/stdin /var/lib/vaultkeeper/wrapped-token <<< '{token}'")
    machine.shutdown()

    # Boot 2: the token is there when the machine boots. No manual restart below.
    machine.start()
    machine.wait_for_unit("demo.service")
    machine.wait_for_unit("vaultkeeper.service")
    assert "Result=success" in machine.succeed("systemctl show -p Result vaultkeeper-bootstrap.service")
    machine.succeed("test -s /var/lib/vaultkeeper/approle/secret-id")
    # The spent token is erased from the file it was read from.
    assert machine.succeed("stat -c %s /var/lib/vaultkeeper/wrapped-token").strip() == "0"
    # Order: bootstrap finished before the fetch started, the fetch before the consumer.
    def mono(unit, prop):
        return int(machine.succeed(f"systemctl show -p {prop} --value {unit}").strip())
    assert mono("vaultkeeper-bootstrap.service", "ExecMainExitTimestampMonotonic") <= mono("vault-secret-demo.service", "ExecMainStartTimestampMonotonic")
    assert mono("vault-secret-demo.service", "ExecMainExitTimestampMonotonic") <= mono("demo.service", "ExecMainStartTimestampMonotonic")
    assert machine.succeed("cat /var/lib/demo/seen").strip() == "first"
    assert machine.succeed("stat -L -c '%U:%G %a' /run/secrets/demo/password").strip() == "demo:demo 440"
    # The consumer started once: it never ran without its secret.
    assert len(machine.succeed("cat /var/lib/demo/starts").split()) == 1

    # A change in OpenBao restarts the consumer (a new InvocationID).
    before = machine.succeed("systemctl show -p InvocationID --value demo.service").strip()
    vault.succeed(bao + "bao kv put secret/hosts/machine/demo password=second")
    machine.wait_until_succeeds("grep -qx second /var/lib/demo/seen", timeout=60)
    after = machine.succeed("systemctl show -p InvocationID --value demo.service").strip()
    assert before != after, "a change in OpenBao must restart demo.service"
  '';
}
