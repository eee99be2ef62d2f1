# A group-owned socket inside the agent's private /run/vaultkeeper: refused.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.audit = {
    enable = true;
    listen = [ "tcp:127.0.0.1:9090" "unix:/run/vaultkeeper/audit.sock" ];
    socketGroup = "openbao";
  };
}
