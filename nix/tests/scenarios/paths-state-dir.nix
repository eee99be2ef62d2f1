# A stateDir inside a system tree, and one secret's outputDir that contains it.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.stateDir = "/etc/vaultkeeper";
  vault.secrets.a = { secretPath = "x/a"; outputDir = "/run/secrets/a"; cacheDir = "/var/cache/vk/a"; };
  vault.secrets.b = { secretPath = "x/b"; outputDir = "/srv/x"; cacheDir = "/srv"; };
}
