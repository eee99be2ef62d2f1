# A Nix path literal would be copied into the store: a type error.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.audit.enable = true;
  vault.audit.slack.webhookUrlFile = ./webhook-url;
}
