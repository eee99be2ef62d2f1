# The Slack slash-command endpoint, every chat option set.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.chat = {
    enable = true;
    listen = "127.0.0.1:8094";
    signingSecretFile = "/run/secrets/slack-app/signing-secret";
    allowedChannels = [ "C0OPS42" "G0PRIVATE" ];
    allowedUsers = [ "U0ALICE" ];
    collectionInterval = "5m";
    responseType = "in_channel";
  };
}
