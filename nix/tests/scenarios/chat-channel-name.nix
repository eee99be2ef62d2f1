# A channel name where an ID belongs: a type error.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.chat = {
    enable = true;
    signingSecretFile = "/run/secrets/slack-app/signing-secret";
    allowedChannels = [ "#ops" ];
  };
}
