# The OpenBao server (group "openbao") connects to the agent's unix socket.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.audit = {
    enable = true;
    listen = [ "unix:/run/vaultkeeper-audit/audit.sock" ];
    socketGroup = "openbao";
  };
}
