# A secret file in the world-readable Nix store: a type error.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.approle.secretIdFile = "/nix/store/00000000000000000000000000000000-secret-id";
}
