# Trailing slashes, "." and "//" are normalised before the spec, tmpfiles and
# ReadWritePaths= see them; vault.secretsDir is the base of the default outputDirs.
{
  vault.enable = true;
  vault.address = "https://vault01.example:8200";
  vault.secretsDir = "/run/vault-secrets/";
  vault.stateDir = "/var/lib/vk/";
  vault.secrets.db = { secretPath = "x/db"; outputDir = "/run/secrets//db/./"; cacheDir = "/var/cache/vk//db/"; };
  vault.secrets.api.secretPath = "x/api";
  vault.secrets.keys = { secretPath = "x/keys"; outputDir = "/run/keys/api/"; };
  vault.templates."app.env".envFrom = [ "api" ];
}
