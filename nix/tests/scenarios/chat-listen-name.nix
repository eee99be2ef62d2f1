# A host name where chat.listen needs an IP address: a type error.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.chat = {
    enable = true;
    listen = "localhost:8093";
    signingSecretFile = "/run/secrets/slack-app/signing-secret";
  };
}
