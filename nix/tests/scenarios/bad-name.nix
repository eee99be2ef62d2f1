{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secrets."db/primary".secretPath = "hosts/db01/primary";
}
